"""Benchmark: the staff workbench in the national world (target: each page under 200 ms of server time).

Runs in the world of bench/world.py (built once, reused: 1,000,000 agents, 21,000 adherents, 3,000,000
requests over three years). It times, in the same process as the server code (Django's test client:
server time, no network), for the regional instructor of the delegation with the longest queue and for
the national supervisor (bench/world.py's people): the queue as it opens, its « En retard » and
« Toutes » tabs, the instruction page of the oldest open request, and the admin's home page with its
dashboard. The baseline, alternated with each measured page (measured, baseline, measured…), is the
admin page that reads nothing from the world (the password change form): the ratio is what the world
costs. The worker's refresh of the dashboard's snapshots and of the prestations' delays is timed first
(it runs every ten minutes, off any page); what the world had of them is put back at the end. Last, the
export of every agent to CSV by the worker's function, against COPY of the same table (the floor).

    .venv/bin/python bench/workbench.py [--repeat 30] [--agents 1000000 --adherents 21000 --requests 3000000]
"""

import time

import _common as bench

BASELINE = "/admin/password_change/"


def saved(table: str) -> list[dict]:
    """The table's rows as they are (it is small), to be put back by ``restore``."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(json_agg(t), '[]') FROM {table} t")
        return cursor.fetchone()[0]


def restore(table: str, rows: list[dict]) -> None:
    import json

    from django.db import transaction

    with transaction.atomic():
        bench.sql(f"DELETE FROM {table}")
        bench.sql(f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s)", [json.dumps(rows)])


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    _sizes, people = bench.start(options, private_files=True)

    from prestations import indicators

    tables = ("prestations_indicatorsnapshot", "prestations_prestationdelays")
    kept = {table: saved(table) for table in tables}
    try:
        started = time.monotonic()
        indicators.refresh(every_region=True)
        refreshed = time.monotonic() - started
        measure(options, people, refreshed)
    finally:
        for table in tables:
            restore(table, kept[table])
    export_agents(people.supervisor)
    bench.finish(options)


def measure(options, people, refreshed: float) -> None:
    from prestations.models import Demande

    region = people.region
    instructor, supervisor = bench.client_for(people.instructor), bench.client_for(people.supervisor)
    oldest = Demande.objects.filter(region=region, status="submitted").order_by("submitted_at").first()
    open_in_region = Demande.objects.filter(region=region, status__in=Demande.OPEN).count()
    pages = [
        ("queue, regional instructor", instructor, "/admin/prestations/demande/"),
        ("queue « En retard », regional", instructor, "/admin/prestations/demande/?file=retard"),
        ("queue « Toutes », regional", instructor, "/admin/prestations/demande/?file=toutes"),
        ("queue, national supervisor", supervisor, "/admin/prestations/demande/"),
        ("instruction page (oldest open)", instructor, f"/admin/prestations/demande/{oldest.pk}/change/"),
        ("admin home + dashboard, regional", instructor, "/admin/"),
        ("admin home + dashboard, national", supervisor, "/admin/"),
    ]
    print(f"{open_in_region:,} requests open in {region} (the longest queue); {options.repeat} requests a page, "
          f"alternated with the admin page reading nothing ({BASELINE}, same client)")
    print(f"Dashboard snapshots and prestations' delays refreshed by the worker's function: {refreshed:.1f} s "
          f"for the nation and every region")
    print(f"{'page':40} {'p50 ms':>8} {'p95 ms':>8} {'baseline p50':>13} {'ratio':>6} {'queries':>8}")
    worst = 0.0
    for label, client, target in pages:
        measured, base = bench.alternate(client, target, BASELINE, options.repeat)
        count = bench.queries(client, target)
        p50 = bench.p50(measured)
        worst = max(worst, p50)
        print(f"{label:40} {p50:8.1f} {bench.p95(measured):8.1f} {bench.p50(base):13.1f} "
              f"{p50 / bench.p50(base):6.2f} {count:8d}", flush=True)
    print(f"worst p50: {worst:.1f} ms -> target < 200 ms: {'OK' if worst < 200 else 'MISSED'}")


def export_agents(supervisor) -> None:
    """The agents' list (every agent of the country, for the national supervisor) exported to CSV by the
    worker's function, against psycopg's COPY of the same table to a file (the floor: the database
    writing rows, no Python per row), timed before and after the export (COPY, export, COPY: the floor is
    their mean). Peak memory of the process before and after. The export job and its file are deleted
    afterwards."""
    import resource
    import tempfile

    from django.db import connection

    from cnas import background_exports
    from cnas.models import ExportJob

    def copy_floor() -> float:
        started = time.perf_counter()
        connection.ensure_connection()
        raw = connection.connection.cursor()
        statement = "COPY (SELECT * FROM accounts_agent) TO STDOUT (FORMAT csv)"
        with tempfile.TemporaryFile() as handle, raw.copy(statement) as copy:
            for chunk in copy:
                handle.write(chunk)
        return time.perf_counter() - started

    job = ExportJob.objects.create(author=supervisor, model="accounts.agent", title="agents", format="csv")
    try:
        floors = [copy_floor()]
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        job = background_exports.run_export(job_id=job.pk)
        seconds = time.perf_counter() - started
        peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        floors.append(copy_floor())
        floor = sum(floors) / len(floors)
        print(f"Export of {job.written:,} agents to CSV ({job.status}, {job.file.size / 1e6:.0f} MB): {seconds:.1f} s, "
              f"{job.written / seconds:,.0f} rows/s; COPY of the same table: {floor:.2f} s "
              f"({floors[0]:.2f} before, {floors[1]:.2f} after; ratio {seconds / floor:.1f}); peak memory of the "
              f"process {peak_before / 1024:.0f} MB before, {peak_after / 1024:.0f} MB after")
    finally:
        if job.file:
            job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk).delete()


if __name__ == "__main__":
    main()
