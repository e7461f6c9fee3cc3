"""Benchmark: the staff workbench at national scale (target: each page under 200 ms of server time).

Builds its own database (cnas_bench_workbench): the national world of seed_demo (1,000,000 agents,
21,000 adherents) and 3,000,000 requests spread over three years (8 % waiting on staff, 2 % on the
agent, the rest decided or withdrawn), then ANALYZE. It times, in the same process as the server
code (Django's test client: server time, no network), for a regional instructor and a national
supervisor: the queue as it opens, the queue's "Toutes" and "En retard" tabs, the instruction page
of the oldest open request, and the admin's home page with its dashboard. The baseline, alternated
with each measured page, is the admin page that reads nothing from the world (the password change
form): the ratio is what the world costs. The worker's refresh of the dashboard's snapshots is
timed too (it runs every ten minutes, off any page).

    .venv/bin/python bench/workbench.py [--agents 1000000] [--adherents 21000] [--requests 3000000] [--repeat 30]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from _db import ROOT, fresh_database, setup_django

AGENTS_SQL = """
CREATE TEMP TABLE bench_agents AS
SELECT e.agent_id, ad.id AS adherent_id, ad.region_id, row_number() OVER (ORDER BY e.id) AS n
FROM adhesions_employment e JOIN adhesions_adherent ad ON ad.id = e.employer_id
WHERE e.end_date IS NULL AND ad.kind <> 'cos';
CREATE UNIQUE INDEX ON bench_agents (n);
ANALYZE bench_agents;
"""

REQUESTS_SQL = """
WITH total AS (SELECT count(*) AS n FROM bench_agents),
prestations AS (SELECT array_agg(id ORDER BY id) AS ids FROM prestations_prestation),
raw AS (
    SELECT g, random() AS r, now() - (random() * interval '1095 days') AS submitted,
           1 + ((g::bigint * 7919) %% (SELECT n FROM total)) AS n
    FROM generate_series(1, %(requests)s) g
)
INSERT INTO prestations_demande
    (agent_id, prestation_id, status, event_key, adherent_id, region_id, amount_computed, amount_granted,
     amount_change_reason, refusal_reason, created_at, submitted_at, decided_at, agent_wait, decision_pdf)
SELECT a.agent_id, p.ids[1 + (raw.g %% array_length(p.ids, 1))],
       CASE WHEN raw.r < 0.08 THEN 'submitted' WHEN raw.r < 0.10 THEN 'awaiting_documents'
            WHEN raw.r < 0.70 THEN 'accepted' WHEN raw.r < 0.90 THEN 'refused' ELSE 'withdrawn' END,
       'bench:' || raw.g, a.adherent_id, a.region_id, 150, CASE WHEN raw.r >= 0.10 AND raw.r < 0.70 THEN 150 END,
       '', CASE WHEN raw.r >= 0.70 AND raw.r < 0.90 THEN 'Hors critères' ELSE '' END,
       raw.submitted, raw.submitted,
       CASE WHEN raw.r >= 0.10 AND raw.r < 0.90 THEN raw.submitted + (random() * interval '30 days') END,
       interval '0', ''
FROM raw JOIN bench_agents a ON a.n = raw.n CROSS JOIN prestations p
"""


def timed(client, url: str, repeat: int, baseline: str) -> tuple[list[float], list[float]]:
    """``url`` and the baseline, one after the other, ``repeat`` times each (after a warm-up)."""
    measured, base = [], []
    for target in (url, baseline):
        response = client.get(target)
        assert response.status_code == 200, (target, response.status_code)
    for _ in range(repeat):
        for target, into in ((url, measured), (baseline, base)):
            started = time.perf_counter()
            response = client.get(target)
            into.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return measured, base


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--adherents", type=int, default=21_000)
    parser.add_argument("--requests", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="measure again in the world the last run built")
    options = parser.parse_args()
    seeded = inserted = refreshed = 0.0
    if options.reuse:
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/cnas_bench_workbench"
    else:
        url = fresh_database("cnas_bench_workbench")
        started = time.monotonic()
        subprocess.run([sys.executable, "manage.py", "seed_demo", "--agents", str(options.agents), "--adherents",
                        str(options.adherents)], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": url})
        seeded = time.monotonic() - started
    setup_django()

    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.models import Count, Q
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import StaffProfile, User
    from adhesions.models import Region
    from prestations import indicators
    from prestations.models import Demande

    if not options.reuse:
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(AGENTS_SQL)
            cursor.execute(REQUESTS_SQL, {"requests": options.requests})
        connection.ensure_connection()
        with connection.cursor() as cursor:  # as autovacuum after a bulk load: visibility map, statistics
            cursor.execute("VACUUM ANALYZE")
        inserted = time.monotonic() - started
    User.objects.filter(email__endswith="@bench.test").delete()
    started = time.monotonic()
    indicators.refresh(every_region=True)
    refreshed = time.monotonic() - started

    region = (Region.objects.annotate(waiting=Count("demandes", filter=Q(demandes__status="submitted")))
              .order_by("-waiting").first())

    def person(email, role, **profile):
        user = User.objects.create_user(email=email, password="x", is_staff=True)
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        StaffProfile.objects.create(user=user, **profile)
        user.groups.add(Group.objects.get(name=role))
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        return client

    instructor = person("instr@bench.test", "Instructeur", region=region)
    supervisor = person("superv@bench.test", "Superviseur", is_national=True)
    oldest = Demande.objects.filter(region=region, status="submitted").order_by("submitted_at").first()
    total = Demande.objects.count()
    open_in_region = Demande.objects.filter(region=region, status__in=Demande.OPEN).count()
    baseline = "/admin/password_change/"
    pages = [
        ("queue, regional instructor", instructor, "/admin/prestations/demande/"),
        ("queue « En retard », regional", instructor, "/admin/prestations/demande/?file=retard"),
        ("queue « Toutes », regional", instructor, "/admin/prestations/demande/?file=toutes"),
        ("queue, national supervisor", supervisor, "/admin/prestations/demande/"),
        ("instruction page (oldest open)", instructor, f"/admin/prestations/demande/{oldest.pk}/change/"),
        ("admin home + dashboard, regional", instructor, "/admin/"),
        ("admin home + dashboard, national", supervisor, "/admin/"),
    ]
    print(f"World: {options.agents:,} agents, {options.adherents:,} adherents (seed_demo {seeded:.0f} s), "
          f"{total:,} requests ({inserted:.0f} s), {open_in_region:,} open in {region}")
    print(f"Dashboard snapshots refreshed by the worker: {refreshed:.1f} s for the nation and every region")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'baseline p50':>13} {'ratio':>6} {'queries':>8}")
    for label, client, target in pages:
        measured, base = timed(client, target, options.repeat, baseline)
        with CaptureQueriesContext(connection) as queries:
            client.get(target)
        print(f"{label:40} {statistics.median(measured):8.1f} {p95(measured):8.1f} {statistics.median(base):13.1f} "
              f"{statistics.median(measured) / statistics.median(base):6.2f} {len(queries):8d}")
    export_agents()


def export_agents() -> None:
    """The agents' list (every agent of the country, for a national supervisor) exported to CSV by the
    worker's function, against psycopg's COPY of the same table to a file (the floor: the database
    writing rows, no Python per row). Peak memory of the process before and after."""
    import resource
    import tempfile

    from django.db import connection

    from accounts.models import User
    from cnas import background_exports
    from cnas.models import ExportJob

    supervisor = User.objects.get(email="superv@bench.test")
    job = ExportJob.objects.create(author=supervisor, model="accounts.agent", title="agents", format="csv")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    job = background_exports.run_export(job_id=job.pk)
    seconds = time.perf_counter() - started
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    connection.ensure_connection()
    raw = connection.connection.cursor()
    statement = "COPY (SELECT * FROM accounts_agent) TO STDOUT (FORMAT csv)"
    with tempfile.TemporaryFile() as handle, raw.copy(statement) as copy:
        for chunk in copy:
            handle.write(chunk)
    floor = time.perf_counter() - started
    print(f"Export of {job.written:,} agents to CSV ({job.status}, {job.file.size / 1e6:.0f} MB): {seconds:.1f} s, "
          f"{job.written / seconds:,.0f} rows/s; COPY of the same table: {floor:.1f} s (ratio {seconds / floor:.1f}); "
          f"peak memory of the process {peak_before / 1024:.0f} MB before, {peak_after / 1024:.0f} MB after")


if __name__ == "__main__":
    main()
