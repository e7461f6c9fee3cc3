"""Benchmark: the agent's pages with 1,000,000 agents and 3,000,000 requests in the database.

Builds its own database (cnas_bench_catalogue) with seed_demo's large mode, times the demo
agent's catalogue page (and the other benefit pages) a first time — the baseline, with no
request in the database — then inserts 3,000,000 requests (set-based SQL: paid, accepted,
refused, submitted, withdrawn, spread over two years and over every prestation) and times
the same pages again, with their query counts.

    .venv/bin/python bench/catalogue.py [--agents 1000000] [--requests 3000000] [--repeat 20]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from _db import ROOT, fresh_database, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    url = fresh_database("cnas_bench_catalogue")
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--agents", str(options.agents), "--adherents",
                    "21000"], cwd=ROOT, check=True, env={**os.environ, "DATABASE_URL": url},
                   stdout=subprocess.DEVNULL)
    setup_django()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from prestations.models import Demande

    agent_user = User.objects.get(email="agent@demo.test")
    demande = Demande.objects.filter(agent__user=agent_user).first() or Demande.objects.create(
        agent=agent_user.agent, prestation_id=1)
    pages = [("catalogue", "/espace/prestations/"), ("prestation (median delay)", "/espace/prestations/secours/"),
             ("my requests", "/espace/demandes/"), ("a request", f"/espace/demandes/{demande.pk}/"),
             ("home", "/espace/")]

    def measure() -> dict[str, tuple[float, float, int]]:
        client = Client(HTTP_HOST="localhost")
        client.force_login(agent_user)
        results = {}
        for name, path in pages:
            client.get(path)
            timings = []
            for _ in range(options.repeat):
                started = time.perf_counter()
                assert client.get(path).status_code == 200
                timings.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as ctx:
                client.get(path)
            results[name] = (statistics.median(timings), sorted(timings)[int(len(timings) * 0.95) - 1],
                             len(ctx.captured_queries))
        return results

    baseline = measure()
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM accounts_agent")
        first, last = cursor.fetchone()
        cursor.execute("SELECT array_agg(id), array_agg(COALESCE(fixed_amount, 100)) FROM prestations_prestation")
        prestation_ids, amounts = cursor.fetchone()
        cursor.execute("""INSERT INTO prestations_paymentbatch (status, message_id, execution_date, total, count,
                          file, created_at) VALUES ('sent', 'BENCH-1', current_date, 0, 0, '', now()) RETURNING id""")
        batch_id = cursor.fetchone()[0]
        cursor.execute("SELECT setseed(0.6)")
        cursor.execute("""
            INSERT INTO prestations_demande (agent_id, prestation_id, status, event_key, amount_computed,
                amount_granted, amount_change_reason, refusal_reason, created_at, submitted_at, decided_at,
                batch_id, paid_at, region_id, decision_pdf)
            SELECT g.agent_id, (%(ids)s::bigint[])[g.p], g.status, 'bench:' || g.n, g.amount,
                   CASE WHEN g.status IN ('accepted', 'paid') THEN g.amount END, '',
                   CASE WHEN g.status = 'refused' THEN 'Hors délai' ELSE '' END,
                   g.submitted, g.submitted,
                   CASE WHEN g.status IN ('accepted', 'paid', 'refused') THEN g.submitted + g.delay END,
                   CASE WHEN g.status = 'paid' THEN %(batch)s END,
                   CASE WHEN g.status = 'paid' THEN g.submitted + g.delay + interval '5 days' END,
                   1 + (g.n %% 3), ''
            FROM (
                SELECT n, %(first)s + floor(random() * (%(last)s - %(first)s + 1))::bigint AS agent_id,
                       1 + floor(random() * array_length(%(ids)s::bigint[], 1))::int AS p,
                       (ARRAY['paid','paid','paid','paid','paid','paid','paid','accepted','refused','submitted',
                              'withdrawn'])[1 + floor(random() * 11)::int] AS status,
                       (%(amounts)s::numeric[])[1] AS amount,
                       now() - (random() * interval '730 days') AS submitted,
                       random() * interval '30 days' AS delay
                FROM generate_series(1, %(count)s) AS n
            ) AS g""", {"ids": prestation_ids, "amounts": amounts, "batch": batch_id, "first": first, "last": last,
                        "count": options.requests})
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM prestations_demande")
        total = cursor.fetchone()[0]
    inserted = time.monotonic() - started
    loaded = measure()

    print(f"Benefit pages of the demo agent, {options.agents} agents; baseline: no request; "
          f"then {total} requests (inserted in {inserted:.0f} s); {options.repeat} requests a page")
    print(f"{'page':<28}{'base median':>12}{'q':>4} | {'median ms':>10}{'p95 ms':>9}{'q':>4}{'ratio':>7}")
    for name, _ in pages:
        b, lo = baseline[name], loaded[name]
        print(f"{name:<28}{b[0]:>12.1f}{b[2]:>4} | {lo[0]:>10.1f}{lo[1]:>9.1f}{lo[2]:>4}{lo[0] / b[0]:>7.2f}")


if __name__ == "__main__":
    main()
