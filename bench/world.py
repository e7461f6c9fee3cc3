"""The national world, built once in its own database and reused by every benchmark.

21,000 adherents, 1,000,000 agents (households, rosters, coverage) and 3,000,000 requests over three
years, as `seed_demo --agents --adherents --requests` builds them, in the database ``cnas_national``
(never the demo's). A row in ``bench_world`` records what was built: a benchmark that finds the same
sizes reuses the world (seconds), otherwise it is rebuilt. The benchmark people (staff, correspondents
of the largest employer and of one of about 5,000 agents) are made here too, through the services.

    .venv/bin/python bench/world.py [--rebuild] [--agents 1000000] [--adherents 21000] [--requests 3000000]

prints the seed's time and the machine's load (`uptime`) before and after.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432"
NATIONAL = {"agents": 1_000_000, "adherents": 21_000, "requests": 3_000_000}
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def database(sizes: dict) -> str:
    """``cnas_national`` for the national world; a world of other sizes has a database of its own."""
    return "cnas_national" if sizes == NATIONAL else f"cnas_world_{sizes['agents']}_{sizes['requests']}"


def url(sizes: dict) -> str:
    return f"{SERVER}/{database(sizes)}"


def _recorded(sizes: dict) -> dict | None:
    try:
        with psycopg.connect(url(sizes)) as conn:
            row = conn.execute("SELECT info FROM bench_world WHERE sizes = %s::jsonb",
                               [json.dumps(sizes, sort_keys=True)]).fetchone()
    except psycopg.Error:
        return None
    return row[0] if row else None


def build(sizes: dict) -> dict:
    """Drop and rebuild the world; returns what was recorded."""
    name = database(sizes)
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url(sizes)}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    before = uptime()
    started = time.monotonic()
    out = subprocess.run([sys.executable, "manage.py", "seed_demo", "--agents", str(sizes["agents"]),
                          "--adherents", str(sizes["adherents"]), "--requests", str(sizes["requests"]), "-v", "2"],
                         cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    seconds = time.monotonic() - started
    # what beat does every ten minutes: the dashboard's snapshots and the prestations' delays
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    "from prestations.tasks import refresh_indicators; refresh_indicators()"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    info = {"seed_seconds": round(seconds, 1), "uptime_before": before, "uptime_after": uptime(),
            "steps": [line.strip() for line in out.splitlines() if " en " in line and "créé" in line],
            "statements": [line.strip() for line in out.splitlines() if line.startswith("    ")],
            "built": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count()}
    with psycopg.connect(url(sizes), autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_world (sizes jsonb PRIMARY KEY, info jsonb NOT NULL)")
        conn.execute("INSERT INTO bench_world VALUES (%s::jsonb, %s::jsonb)",
                     [json.dumps(sizes, sort_keys=True), json.dumps(info)])
    return info


def ensure(sizes: dict | None = None, *, rebuild: bool = False, quiet: bool = False) -> dict:
    """The world of these sizes (the national one by default), built if it is not there."""
    sizes = dict(sizes or NATIONAL)
    info = None if rebuild else _recorded(sizes)
    if info is None:
        if not quiet:
            print(f"Building the world {sizes} in {database(sizes)}…", flush=True)
        info = build(sizes)
    else:  # a world built by an earlier version of the code: brought to the code's migrations
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True,
                       env={**os.environ, "DATABASE_URL": url(sizes)})
    os.environ["DATABASE_URL"] = url(sizes)
    return info


def describe(sizes: dict, info: dict) -> str:
    return (f"World {database(sizes)}: {sizes['adherents']:,} adherents, {sizes['agents']:,} agents, "
            f"{sizes['requests']:,} requests (seeded in {info['seed_seconds']:.0f} s on {info['built']})")


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cnas.settings")
    import django

    django.setup()


@dataclass
class People:
    agent: object           # an agent of the world with a household and a few requests, who has an account
    instructor: object      # instructor of the delegation with the longest queue
    supervisor: object      # national supervisor
    big: object             # correspondent of the largest employer
    typical: object         # correspondent of the employer whose roster is nearest to 5,000 agents
    big_employer: object
    typical_employer: object
    region: object


def people() -> People:
    """The benchmark's people, made once (idempotent) through the services, after setup_django()."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Group
    from django.db.models import Count, Q

    from accounts.models import StaffProfile, User
    from adhesions import services
    from adhesions.models import Adherent, Manager, Region

    def user(email: str) -> User:
        account, _ = User.objects.get_or_create(email=email)
        if not Authenticator.objects.filter(user=account, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(account, TOTP_SECRET)
        return account

    def staff(email: str, role: str, **profile) -> User:
        account = user(email)
        if not account.is_staff:
            account.is_staff = True
            account.save(update_fields=["is_staff"])
            StaffProfile.objects.update_or_create(user=account, defaults=profile)
            account.groups.add(Group.objects.get(name=role))
        return account

    region = (Region.objects.annotate(waiting=Count("demandes", filter=Q(demandes__status="submitted")))
              .order_by("-waiting", "pk").first())
    working = Count("employments", filter=Q(employments__end_date__isnull=True))
    employers = Adherent.objects.exclude(kind="cos").annotate(n=working)
    big_employer = employers.order_by("-n", "pk").first()
    typical_employer = min(employers.filter(n__gte=3000, n__lte=8000).order_by("pk"),
                           key=lambda a: abs(a.n - 5000), default=big_employer)

    def correspondent(email: str, adherent) -> User:
        account = user(email)
        if not Manager.objects.filter(user=account, adherent=adherent).exists():
            services.appoint_manager(actor=None, user=account, adherent=adherent, role=Manager.Role.CORRESPONDENT)
        return account

    agent = User.objects.filter(email="agent@bench.test").first()
    if agent is None:
        from django.db.models import Exists, OuterRef

        from accounts.models import Agent, FamilyMember
        from adhesions.services import invitations

        chosen = (Agent.objects.filter(user__isnull=True, status="working",
                                       employments__employer=typical_employer, employments__end_date__isnull=True)
                  .filter(Exists(FamilyMember.objects.filter(agent=OuterRef("pk"), relation="child")))
                  .annotate(n=Count("demandes")).filter(n__gte=3).order_by("pk").first())
        agent = user("agent@bench.test")
        invitations.attach_agent(user=agent, agent=chosen)
    return People(
        agent=agent,
        instructor=staff("instructeur@bench.test", "Instructeur", region=region),
        supervisor=staff("superviseur@bench.test", "Superviseur", is_national=True),
        big=correspondent("rh-grand@bench.test", big_employer),
        typical=correspondent("rh-5000@bench.test", typical_employer),
        big_employer=big_employer, typical_employer=typical_employer, region=region,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--statements", action="store_true", help="the time of each statement of the seed")
    for key, value in NATIONAL.items():
        parser.add_argument(f"--{key}", type=int, default=value)
    options = parser.parse_args()
    sizes = {key: getattr(options, key) for key in NATIONAL}
    info = ensure(sizes, rebuild=options.rebuild)
    print(describe(sizes, info))
    for step in info["steps"]:
        print("  " + step)
    if options.statements:
        for line in info.get("statements", []):
            print("    " + line)
    print(f"  load before: {info['uptime_before']}")
    print(f"  load after:  {info['uptime_after']}")
    if sizes == NATIONAL:
        verdict = "OK" if info["seed_seconds"] < 300 else "MISSED"
        print(f"  target: < 300 s on {info['cores']} cores with the machine busy with nothing else -> {verdict}")


if __name__ == "__main__":
    main()
