"""Benchmark: a 20,000-line roster file checked and applied by a real Celery worker
(target: under 30 s in all).

Builds its own database (cnas_bench_import) and uses Redis database 2 as the broker,
starts `celery -A cnas worker` as a subprocess, uploads the file through the service the
page uses, and times the check (preview) and the apply (all or nothing), then the same
file a second time (which changes nothing). Baseline in the same run: the per-agent
service (`hire_agent`, one transaction per agent, as a form would do) on 500 lines,
extrapolated to 20,000.

    .venv/bin/python bench/roster_import.py [--lines 20000]
"""

import argparse
import datetime
import os
import random
import signal
import subprocess
import sys
import time

from _db import ROOT, fresh_database, setup_django

BROKER = "redis://127.0.0.1:6379/2"


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


def wait_for(record, statuses, timeout=300):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        record.refresh_from_db()
        if record.status in statuses:
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError(f"import stuck in {record.status}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=500)
    options = parser.parse_args()
    url = fresh_database("cnas_bench_import")
    os.environ["REDIS_URL"] = BROKER
    setup_django()

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from accounts.models import Agent
    from adhesions import demo, services
    from adhesions.models import Adherent, Adhesion, RosterImport

    regions = demo.ensure_regions()
    adherent = Adherent.objects.create(name="Département du Banc d'Essai", kind="collectivity",
                                       category="departement", siret=demo.make_siret("departement", 77),
                                       region=regions["OCC"])
    Adhesion.objects.create(adherent=adherent, start_date=datetime.date(2010, 1, 1), status="active",
                            covers_retired=True)
    data = make_csv(options.lines)

    import redis

    redis.Redis.from_url(BROKER).flushdb()
    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "cnas", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "REDIS_URL": BROKER},
    )
    try:
        time.sleep(6)  # the worker's start
        timings = {}
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
            timings[attempt] = (check, apply, time.monotonic() - started, counts)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    agents = Agent.objects.count()

    # Baseline: one agent at a time through the form's service, on a sample.
    other = Adherent.objects.create(name="Commune témoin", kind="collectivity", category="commune",
                                    siret=demo.make_siret("commune", 78), region=regions["OCC"])
    Adhesion.objects.create(adherent=other, start_date=datetime.date(2010, 1, 1), status="active")
    started = time.monotonic()
    for n in range(options.baseline):
        services.hire_agent(actor=None, employer=other, employee_number=f"T{n}", start_date=datetime.date(2015, 1, 1),
                            last_name="Témoin", first_name="Ligne", birth_date=datetime.date(1980, 1, 1))
    per_line = (time.monotonic() - started) / options.baseline

    check, apply, total, counts = timings["first"]
    print(f"Roster import of {options.lines} lines through a real Celery worker (solo pool)")
    print(f"  first import : check {check:6.1f} s, apply {apply:6.1f} s, total {total:6.1f} s "
          f"(created {counts[0]}, updated {counts[1]}, unchanged {counts[2]})")
    check2, apply2, total2, counts2 = timings["second"]
    print(f"  same file again: check {check2:6.1f} s, apply {apply2:6.1f} s, total {total2:6.1f} s "
          f"(created {counts2[0]}, updated {counts2[1]}, unchanged {counts2[2]})")
    print(f"  agents in the database: {agents}")
    baseline_total = per_line * options.lines
    print(f"  baseline hire_agent one by one: {per_line * 1000:.1f} ms a line -> {baseline_total:.1f} s "
          f"for {options.lines} lines; ratio {baseline_total / total:.1f}x")
    print(f"  target < 30 s: {'OK' if total < 30 else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
