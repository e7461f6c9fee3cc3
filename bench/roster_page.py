"""Benchmark: the roster page of an adherent with 5,000 agents (target: under 200 ms).

Builds its own database (cnas_bench_roster), one adherent with N agents (the same
set-based generator as seed_demo), logs a correspondent in and times the roster page:
first page, a search, a filter, a deep page, and the CSV export. The baseline, measured
in the same run, is the same page for an adherent with 50 agents: the ratio shows that
the page does not grow with the roster. The query count is printed for both.

    .venv/bin/python bench/roster_page.py [--agents 5000] [--repeat 30]
"""

import argparse
import statistics
import time

from _db import fresh_database, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    fresh_database("cnas_bench_roster")
    setup_django()

    import random

    from allauth.mfa.totp.internal.auth import TOTP
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from adhesions import demo
    from adhesions.models import Manager

    rng = random.Random(5)
    regions = demo.ensure_regions()
    worlds = {}
    for label, size in (("big", options.agents), ("small", 50)):
        specs = [demo.AdherentSpec(f"Commune {label}", "collectivity", "commune", "ARA", "Ville", "42000",
                                   covers_retired=True, siret=demo.make_siret("commune", 900 + len(worlds)))]
        adherents = demo.create_adherents(specs, regions)
        demo.populate_agents(adherents=adherents, specs=specs, agents=size, seed=rng.random())
        user = User.objects.create_user(email=f"rh-{label}@bench.test", password="x")
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        Manager.objects.create(user=user, adherent=adherents[0], role="correspondent")
        worlds[label] = (adherents[0], user)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    def measure(label: str, path: str) -> tuple[float, float, int]:
        adherent, user = worlds[label]
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        url = f"/collectivite/{adherent.pk}/agents/{path}"
        client.get(url)  # warm-up
        timings = []
        for _ in range(options.repeat):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        return statistics.median(timings), sorted(timings)[int(len(timings) * 0.95) - 1], len(ctx.captured_queries)

    cases = [("first page", ""), ("search 'mar'", "?q=mar"),
             ("retired, not covered", "?situation=retired&covered=no"),
             ("page 40, sorted by number", "?sort=-matricule&page=40"), ("CSV export", "export.csv")]
    print(f"Roster page, {options.agents} agents vs 50 agents (baseline), {options.repeat} requests each")
    print(f"{'case':<28}{'median ms':>10}{'p95 ms':>9}{'queries':>9} | {'base median':>11}{'queries':>9}{'ratio':>7}")
    worst = 0.0
    for name, path in cases:
        big = measure("big", path)
        small = measure("small", path if "page=40" not in path else path.replace("page=40", "page=1"))
        if name != "CSV export":
            worst = max(worst, big[1])
        print(f"{name:<28}{big[0]:>10.1f}{big[1]:>9.1f}{big[2]:>9} | {small[0]:>11.1f}{small[2]:>9}"
              f"{big[0] / small[0]:>7.2f}")
    print(f"worst p95 of the pages: {worst:.1f} ms -> target < 200 ms: {'OK' if worst < 200 else 'MISSED'}")


if __name__ == "__main__":
    main()
