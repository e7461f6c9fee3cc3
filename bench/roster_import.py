"""Benchmark: a 20,000-line roster file checked and applied by a real Celery worker in the national world
(target: under 30 s in all).

Runs in the world of bench/world.py (built once, reused). A new adherent is made for the run; its roster
file is uploaded through the service the page uses, checked (preview) and applied (all or nothing) by a
real `celery worker` started as a subprocess (solo pool: one process; bench/_worker.py), then the same
file a second time (which changes nothing). After each import the adherent's agents, employments,
coverage, basis, imports, audit entries and outbox items are deleted, so that each round measures a
first import again; then comes the baseline, alternated with the import in the same run (import,
baseline, import, baseline…): a bulk insert of the same agents, employments, coverage and contribution
basis into the empty roster, in one transaction (COPY into a temporary table, then one INSERT … SELECT a
table; one process), rolled back. The adherent itself is deleted at the end: the world is left as it
was found (a run interrupted is cleaned up by the next one).

    .venv/bin/python bench/roster_import.py [--lines 20000] [--rounds 2]
                                            [--agents 1000000 --adherents 21000 --requests 3000000]
"""

import datetime
import io
import random
import statistics
import time

import _common as bench

NAME = "Département du Banc d'Essai (bench/roster_import.py)"


def make_csv(lines: int) -> bytes:
    rng = random.Random(20)
    from adhesions.demo import FEMALE_NAMES, LAST_NAMES, MALE_NAMES
    from adhesions.roster_file import normalize

    today = datetime.date.today()

    rows = ["Matricule;Nom;Prénom;Date de naissance;E-mail;Date d'entrée;Statut;Date de sortie"]
    for n in range(lines):
        first = rng.choice(FEMALE_NAMES + MALE_NAMES)
        last = rng.choice(LAST_NAMES)
        birth = datetime.date(1960, 1, 1) + datetime.timedelta(days=rng.randrange(15000))
        start = min(today, birth + datetime.timedelta(days=7300 + rng.randrange(5000)))
        retired = birth.year < 1964 and rng.random() < 0.5
        status, end = ("retraité", (birth + datetime.timedelta(days=22645)).strftime("%d/%m/%Y")) if retired else (
            "actif", "")
        email = f"{normalize(first)}.{normalize(last)}{n}@agents.example".replace(" ", "") if rng.random() < 0.8 else ""
        rows.append(f"B{n:06d};{last};{first};{birth:%d/%m/%Y};{email};{start:%d/%m/%Y};{status};{end}")
    return ("\r\n".join(rows) + "\r\n").encode("cp1252", errors="replace")


def wait_for(record, statuses, timeout=600):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        record.refresh_from_db()
        if record.status in statuses:
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"import stuck in {record.status}")


def make_adherent():
    from adhesions import demo
    from adhesions.models import Adherent, Adhesion

    regions = demo.ensure_regions()
    taken = set(Adherent.objects.filter(siret__startswith=demo.make_siret("departement", 77)[:3])
                .values_list("siret", flat=True))
    siret = next(s for s in (demo.make_siret("departement", 77 + n * 1009) for n in range(1000)) if s not in taken)
    adherent = Adherent.objects.create(name=NAME, kind="collectivity", category="departement", siret=siret,
                                       region=regions["OCC"])
    Adhesion.objects.create(adherent=adherent, start_date=datetime.date(2010, 1, 1), status="active",
                            covers_retired=True)
    return adherent


def clear_roster(adherent_id: int) -> int:
    """Delete what the imports wrote for this adherent (its agents have no other employer): agents,
    employments, coverage, basis, imports and their files, audit entries, outbox items, and the history
    rows the deletions leave. Returns the agents deleted."""
    from adhesions.models import RosterImport

    with bench.deleting():
        employments = ids("SELECT id FROM adhesions_employment WHERE employer_id = %s", [adherent_id])
        agents = ids("""SELECT DISTINCT e.agent_id FROM adhesions_employment e WHERE e.employer_id = %s
                        AND NOT EXISTS (SELECT 1 FROM adhesions_employment o
                                        WHERE o.agent_id = e.agent_id AND o.employer_id <> %s)""",
                     [adherent_id, adherent_id])
        bench.sql("DELETE FROM adhesions_coverage WHERE agent_id = ANY(%s) OR adherent_id = %s", [agents, adherent_id])
        bench.sql("DELETE FROM adhesions_basisperiod WHERE agent_id = ANY(%s) OR adherent_id = %s",
                  [agents, adherent_id])
        bench.sql("DELETE FROM adhesions_employment WHERE employer_id = %s", [adherent_id])
        bench.sql("DELETE FROM accounts_agent WHERE id = ANY(%s)", [agents])
        bench.forget_history("adhesions_employment", employments)
        bench.forget_history("accounts_agent", agents)
        bench.forget_audit("adhesions.employment", employments)
        imports = list(RosterImport.objects.filter(adherent_id=adherent_id))
        for record in imports:
            if record.file:
                record.file.delete(save=False)
        bench.forget_audit("adhesions.rosterimport", [record.pk for record in imports])
        bench.sql("DELETE FROM cnas_outboxitem WHERE dedupe_key = ANY(%s)",
                  [[f"{step}_import:{record.pk}" for record in imports for step in ("check", "apply")]])
        RosterImport.objects.filter(adherent_id=adherent_id).delete()
    return len(agents)


def remove_adherent(adherent_id: int) -> None:
    clear_roster(adherent_id)
    with bench.deleting():
        _remove_adherent(adherent_id)


def _remove_adherent(adherent_id: int) -> None:
    managers = ids("DELETE FROM adhesions_manager WHERE adherent_id = %s RETURNING id", [adherent_id])
    bench.forget_history("adhesions_manager", managers)
    bench.forget_audit("adhesions.adherent", [adherent_id])
    adhesions = ids("DELETE FROM adhesions_adhesion WHERE adherent_id = %s RETURNING id", [adherent_id])
    bench.forget_history("adhesions_adhesion", adhesions)
    bench.sql("DELETE FROM adhesions_adherent WHERE id = %s", [adherent_id])
    bench.forget_history("adhesions_adherent", [adherent_id])


def ids(statement: str, params) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def bulk_insert(adherent, rows) -> float:
    """The baseline: the file's agents, employments, coverage and basis in one transaction, set-based
    (COPY into a temporary table, one INSERT … SELECT a table), rolled back at the end (not timed)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'adhesions_employment'")
        sort_name = "sort_name" in {row[0] for row in cursor.fetchall()}  # filled by a trigger where it exists
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("""
                CREATE TEMP TABLE bench_lines (
                    agent_id bigint DEFAULT nextval(pg_get_serial_sequence('accounts_agent', 'id')),
                    employee_number text, last_name text, first_name text, birth_date date, email text,
                    start_date date, end_date date, end_reason text, status text) ON COMMIT DROP""")
            buffer = io.StringIO()
            for row in rows:
                v = row.values
                buffer.write("\t".join(str(x) if x not in (None, "") else ("" if x == "" else r"\N") for x in (
                    v["employee_number"], v["last_name"], v["first_name"], v["birth_date"], v.get("email") or "",
                    v["start_date"], v.get("end_date"), v.get("end_reason") or "",
                    "retired" if v["status"] == "retired" else "working")) + "\n")
            raw = cursor.cursor
            with raw.copy("COPY bench_lines (employee_number, last_name, first_name, birth_date, email, start_date, "
                          "end_date, end_reason, status) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            cursor.execute("""
                INSERT INTO accounts_agent (id, user_id, last_name, birth_name, first_name, sex, birth_date, status,
                                            email, phone, address, postcode, city, iban, bic, created_at, updated_at)
                SELECT agent_id, NULL, last_name, '', first_name, '', birth_date, status, email, '', '', '', '', '',
                       '', now(), now() FROM bench_lines""")
            cursor.execute(f"""
                INSERT INTO adhesions_employment (agent_id, employer_id, employee_number, start_date, end_date,
                                                  end_reason{', sort_name' if sort_name else ''})
                SELECT agent_id, %(adherent)s, employee_number, start_date,
                       CASE WHEN status = 'working' THEN NULL ELSE end_date END,
                       CASE WHEN status = 'working' THEN '' ELSE end_reason END{", ''" if sort_name else ''}
                FROM bench_lines""", {"adherent": adherent.pk})
            cursor.execute("""
                INSERT INTO adhesions_coverage (agent_id, adherent_id, period, source, created_at)
                SELECT l.agent_id, %(adherent)s, daterange(GREATEST(l.start_date, ad.start_date),
                       CASE WHEN l.status = 'working' THEN NULL ELSE l.end_date + 1 END, '[)'), 'employment', now()
                FROM bench_lines l JOIN adhesions_adhesion ad ON ad.adherent_id = %(adherent)s AND ad.status = 'active'
                WHERE l.status = 'working' OR l.end_date >= ad.start_date
                UNION ALL
                SELECT l.agent_id, %(adherent)s, daterange(GREATEST(l.end_date + 1, ad.start_date), NULL, '[)'),
                       'retirement', now()
                FROM bench_lines l JOIN adhesions_adhesion ad ON ad.adherent_id = %(adherent)s AND ad.status = 'active'
                                                            AND ad.covers_retired
                WHERE l.status = 'retired'""", {"adherent": adherent.pk})
            cursor.execute("""
                INSERT INTO adhesions_basisperiod (agent_id, adherent_id, period, source)
                SELECT agent_id, %(adherent)s, daterange(start_date, CASE WHEN status = 'working' THEN NULL
                                                                     ELSE end_date + 1 END, '[)'), 'employment'
                FROM bench_lines
                UNION ALL
                SELECT agent_id, %(adherent)s, daterange(end_date + 1, NULL, '[)'), 'retirement'
                FROM bench_lines WHERE status = 'retired'""", {"adherent": adherent.pk})
            cursor.execute("SELECT count(*) FROM adhesions_employment WHERE employer_id = %s", [adherent.pk])
            inserted = cursor.fetchone()[0]
        seconds = time.perf_counter() - started
        assert inserted == len(rows), (inserted, len(rows))
        transaction.set_rollback(True)
    return seconds


def clean_leftovers() -> None:
    """The adherent of an interrupted run, and all it had, deleted (before bench/world.py's people are
    chosen: with its 20,000 agents it could pass for the world's largest employer)."""
    from adhesions.models import Adherent

    for leftover in Adherent.objects.filter(name=NAME).values_list("pk", flat=True):
        print("  (cleaning up after an interrupted run)")
        remove_adherent(leftover)


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    bench.start(options, redis=bench.WORKER_REDIS, private_files=True, prepare=clean_leftovers)

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction
    from django.utils import timezone

    from adhesions import services
    from adhesions.models import Employment, RosterImport
    from adhesions.roster_file import parse_table

    data = make_csv(options.lines)
    table = parse_table(data, "effectif.csv", today=timezone.localdate())
    assert not table.errors, table.errors[:3]
    adherent = make_adherent()
    timings, baselines, cleared = [], [], []
    try:
        bench.flush_broker()
        with bench.outbox_cleaned(), bench.Worker(pool="solo") as worker:
            print(f"Roster import of {options.lines:,} lines through a real Celery worker (solo pool, ready in "
                  f"{worker.start_seconds:.1f} s), alternated with a bulk insert of the same rows; "
                  f"{options.rounds} rounds", flush=True)
            for _ in range(options.rounds):
                round_timings = {}
                for attempt in ("first", "second"):
                    started = time.monotonic()
                    with transaction.atomic():
                        record = services.create_roster_import(
                            actor=None, adherent=adherent, is_complete=False,
                            uploaded=SimpleUploadedFile("effectif.csv", data, "text/csv"))
                    check = wait_for(record, {RosterImport.Status.READY, RosterImport.Status.INVALID})
                    assert record.status == RosterImport.Status.READY, record.errors[:3]
                    counts = (record.created_count, record.updated_count, record.unchanged_count)
                    services.confirm_roster_import(actor=None, record=record)
                    apply = wait_for(record, {RosterImport.Status.APPLIED, RosterImport.Status.FAILED,
                                              RosterImport.Status.INVALID})
                    assert record.status == RosterImport.Status.APPLIED, record.failure
                    round_timings[attempt] = (check, apply, time.monotonic() - started, counts)
                agents = Employment.objects.filter(employer=adherent).count()
                timings.append(round_timings)
                started = time.monotonic()
                clear_roster(adherent.pk)  # the baseline, like the next round, meets an empty roster
                cleared.append(time.monotonic() - started)
                baselines.append(bulk_insert(adherent, table.rows))
                print(f"  round {len(timings)}: first import {round_timings['first'][2]:.1f} s, again "
                      f"{round_timings['second'][2]:.1f} s, bulk insert {baselines[-1]:.1f} s "
                      f"({agents:,} roster lines, deleted afterwards in {cleared[-1]:.1f} s)", flush=True)
    finally:
        bench.flush_broker()
        remove_adherent(adherent.pk)

    def median(attempt: str, index: int) -> float:
        return statistics.median(t[attempt][index] for t in timings)

    first, second = timings[-1]["first"][3], timings[-1]["second"][3]
    total, baseline = median("first", 2), statistics.median(baselines)
    print(f"Medians over {len(timings)} rounds:")
    print(f"  first import : check {median('first', 0):6.1f} s, apply {median('first', 1):6.1f} s, "
          f"total {total:6.1f} s (created {first[0]}, updated {first[1]}, unchanged {first[2]})")
    print(f"  same file again: check {median('second', 0):6.1f} s, apply {median('second', 1):6.1f} s, "
          f"total {median('second', 2):6.1f} s (created {second[0]}, updated {second[1]}, unchanged {second[2]})")
    print(f"  baseline, bulk insert of the same agents, employments, coverage and basis (one transaction, "
          f"1 process): {baseline:.1f} s; ratio import / bulk insert {total / baseline:.1f}x")
    print(f"  target < 30 s: {'OK' if total < 30 else 'MISSED'}")
    bench.finish(options)


if __name__ == "__main__":
    main()
