"""HTTP load on the pages users wait for, in the national world, against a bare view in the same run.

The national world (bench/world.py: 21,000 adherents, 1,000,000 agents, 3,000,000 requests) is built
once or reused. The portal is served as the Procfile serves it (gunicorn, 2 workers of 4 threads,
DEBUG off, access log on) and driven by wrk (Debian's package) at concurrency 1, 8 and 32. Each page
is measured right after the bare view, with the same session and the same wrk settings: the health
check `/sante/web/` (session and user loaded by the middleware, one query), so the ratio is what the
page itself costs. Every page is first fetched once and must answer 200 (not a redirect to a login).

    .venv/bin/python bench/http_load.py [--seconds 8] [--concurrency 1 8 32] [--only home catalogue …]

Targets (issue 15): every agent page within 3 × the bare view's p50 at concurrency 1 and at least a
third of its throughput; the roster of an employer of about 5,000 agents and its search under 100 ms
p95 at concurrency 1.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import world

BENCH = Path(__file__).resolve().parent
BARE = "/sante/web/"
SECRET_KEY = "bench-" + "x" * 50  # the server's and this process's, so that the sessions made here are valid there


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def serve(port: int, log) -> subprocess.Popen:
    """gunicorn as in the Procfile, DEBUG off (a TLS proxy in front: X-Forwarded-Proto is sent)."""
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1",
           "SITE_URL": "https://127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "cnas.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--access-logfile", "-"],
        cwd=world.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{BARE}", timeout=2)
            return process
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start (see the log)")


def headers(cookie: str) -> dict:
    return {"Cookie": cookie, "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check(port: int, path: str, cookie: str) -> int:
    """One GET: the page must answer 200 to this session; returns its size."""
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers(cookie))
    try:
        with opener.open(request, timeout=30) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    if status != 200:
        raise SystemExit(f"{path} answered {status}, not 200")
    return len(body)


def wrk(port: int, path: str, cookie: str, *, concurrency: int, seconds: int) -> dict:
    command = ["wrk", f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "30s",
               "-s", str(BENCH / "report.lua")]
    for name, value in headers(cookie).items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    result = json.loads(out.strip().splitlines()[-1])
    if result["errors"] or result["non2xx"]:
        raise SystemExit(f"{path} at concurrency {concurrency}: {result['errors']} errors, "
                         f"{result['non2xx']} answers not 2xx")
    return result


def pages(people) -> list[tuple[str, str, object, str]]:
    """(key, label, user, path) of the pages measured."""
    from prestations.models import Demande, Prestation

    agent = people.agent.agent
    demande = Demande.objects.filter(agent=agent).order_by("-pk").first()
    prestation = Prestation.objects.get(code="naissance")
    typical, big = people.typical_employer, people.big_employer
    return [
        ("home", "agent home", people.agent, "/espace/"),
        ("catalogue", "catalogue", people.agent, "/espace/prestations/"),
        ("prestation", "a prestation page", people.agent, f"/espace/prestations/{prestation.code}/"),
        ("demande", "a request", people.agent, f"/espace/demandes/{demande.pk}/"),
        ("roster", f"roster, {typical.n:,} agents", people.typical, f"/collectivite/{typical.pk}/agents/"),
        ("search", f"roster search, {typical.n:,} agents", people.typical,
         f"/collectivite/{typical.pk}/agents/?q=mar"),
        ("roster_big", f"roster, largest ({big.n:,} agents)", people.big, f"/collectivite/{big.pk}/agents/"),
        ("search_big", "roster search, largest", people.big, f"/collectivite/{big.pk}/agents/?q=mar"),
        ("queue", "admin queue (regional)", people.instructor, "/admin/prestations/demande/"),
        ("dashboard", "admin home + dashboard", people.instructor, "/admin/"),
    ]


AGENT_PAGES = {"home", "catalogue", "prestation", "demande"}
ROSTER_PAGES = {"roster", "search"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--only", nargs="+", help="keys of the pages to measure")
    for key, value in world.NATIONAL.items():
        parser.add_argument(f"--{key}", type=int, default=value)
    options = parser.parse_args()
    sizes = {key: getattr(options, key) for key in world.NATIONAL}
    info = world.ensure(sizes)
    os.environ["SECRET_KEY"] = SECRET_KEY
    world.setup_django()
    people = world.people()
    measured = [page for page in pages(people) if not options.only or page[0] in options.only]
    cookies = {user.pk: session_cookie(user) for _, _, user, _ in measured}

    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=world.ROOT, check=True)
    port = free_port()
    log = open(BENCH / "http_load.log", "w")  # noqa: SIM115 - the server's log, open while it runs
    server = serve(port, log)
    try:
        print(world.describe(sizes, info))
        print(f"gunicorn 2 workers × 4 threads, DEBUG off; wrk {options.seconds} s per run; "
              f"bare view {BARE} with the same session, measured before each page; load: {world.uptime()}")
        print(f"{'page':34} {'c':>3} {'req/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} | {'bare req/s':>10} "
              f"{'bare p50':>8} | {'thr.':>5} {'p50 ×':>6}")
        verdicts = []
        for key, label, user, path in measured:
            cookie = cookies[user.pk]
            check(port, path, cookie)
            check(port, BARE, cookie)
            wrk(port, path, cookie, concurrency=1, seconds=1)  # warm-up: caches, connections
            for concurrency in options.concurrency:
                bare = wrk(port, BARE, cookie, concurrency=concurrency, seconds=options.seconds)
                page = wrk(port, path, cookie, concurrency=concurrency, seconds=options.seconds)
                throughput = page["rps"] / bare["rps"]
                slower = page["p50"] / bare["p50"]
                print(f"{label:34} {concurrency:>3} {page['rps']:>8.1f} {page['p50']:>7.1f} {page['p95']:>7.1f} "
                      f"{page['p99']:>7.1f} | {bare['rps']:>10.1f} {bare['p50']:>8.1f} | 1/{1 / throughput:<3.1f} "
                      f"{slower:>6.2f}", flush=True)
                if concurrency == 1 and key in AGENT_PAGES:
                    verdicts.append((f"{label}: p50 {slower:.2f} × bare (≤ 3), throughput 1/{1 / throughput:.1f} "
                                     f"of bare (≥ 1/3)", slower <= 3 and throughput >= 1 / 3))
                if concurrency == 1 and key in ROSTER_PAGES:
                    verdicts.append((f"{label}: p95 {page['p95']:.1f} ms (< 100)", page["p95"] < 100))
        print()
        for text, ok in verdicts:
            print(f"  {'OK    ' if ok else 'MISSED'} {text}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


if __name__ == "__main__":
    main()
