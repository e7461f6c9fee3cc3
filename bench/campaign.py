"""Benchmark: the contribution campaign at national scale.

Builds its own database (cnas_bench_campaign) with seed_demo's large mode (21,000
adherents, 1,000,000 agents), declares payrolls, then prints in one run:

- the time of the campaign's computation (compute_campaign: every call issued in one
  INSERT … SELECT, and the chunks cut), against the floor: one bare SQL statement
  computing the same amounts (the campaign's SELECT alone, nothing written); target:
  within three times the floor;
- PDF calls rendered per second by the campaign (its chunk tasks on a real
  `celery worker` with 2 processes, the first CHUNKS chunks), against bare WeasyPrint
  rendering the same template in a loop in one process.

    .venv/bin/python bench/campaign.py [--agents 1000000] [--adherents 21000] [--chunks 4]
"""

import argparse
import datetime
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

from _db import ROOT, fresh_database, setup_django

BROKER = "redis://127.0.0.1:6379/3"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--adherents", type=int, default=21_000)
    parser.add_argument("--chunks", type=int, default=4)
    options = parser.parse_args()
    url = fresh_database("cnas_bench_campaign")
    os.environ["REDIS_URL"] = BROKER
    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", "seed_demo", "--agents", str(options.agents), "--adherents",
                    str(options.adherents)], cwd=ROOT, check=True, env={**os.environ, "DATABASE_URL": url},
                   stdout=subprocess.DEVNULL)
    seeded = time.monotonic() - started
    setup_django()

    from django.db import connection

    from adhesions import services
    from adhesions.computation import computation_sql, scale_params
    from adhesions.models import Campaign, ContributionCall, ContributionScale

    year = datetime.date.today().year + 2  # not the demo's years
    with connection.cursor() as cursor:  # every employer declares its payroll of the year before
        cursor.execute("""
            INSERT INTO adhesions_payrolldeclaration (adherent_id, year, gross_payroll, working_headcount,
                retired_headcount, declared_at, is_correction, reason)
            SELECT e.employer_id, %s, count(*) * 31200, count(*), 0, now(), false, ''
            FROM adhesions_employment e WHERE e.end_date IS NULL GROUP BY e.employer_id""", [year - 1])
        cursor.execute("ANALYZE")
    scale = ContributionScale.objects.create(
        year=year, payroll_rate=Decimal("0.86"), floor_per_agent=Decimal("150"), ceiling_per_agent=Decimal("420"),
        cos_per_agent=Decimal("125"), retired_flat=Decimal("137.80"), due_date=datetime.date(year, 3, 31))

    def bare() -> tuple[float, Decimal, int]:
        t0 = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), sum(amount) FROM ({computation_sql()}) c", scale_params(scale))
            count, total = cursor.fetchone()
        return time.monotonic() - t0, total, count

    bare()  # warm the caches, as the campaign will find them
    floor_seconds, floor_total, floor_count = min(bare() for _ in range(3))

    campaign = Campaign.objects.create(scale=scale)
    t0 = time.monotonic()
    chunk_ids = services.compute_campaign(campaign_id=campaign.pk)
    compute_seconds = time.monotonic() - t0
    calls = ContributionCall.objects.filter(campaign=campaign)
    campaign_total = sum(calls.values_list("amount", flat=True))
    assert calls.count() == floor_count and campaign_total == floor_total, "the campaign and the floor disagree"

    # Rendering: the campaign's chunk tasks on a real worker with 2 processes.
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    worker = subprocess.Popen([str(ROOT / ".venv/bin/celery"), "-A", "cnas", "worker", "--concurrency=2",
                               "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
                              cwd=ROOT, env={**os.environ, "DATABASE_URL": url, "REDIS_URL": BROKER},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from adhesions import tasks

    try:
        time.sleep(8)
        selected = chunk_ids[:options.chunks]
        wanted = calls.filter(id__lte=max(c.last_call_id for c in campaign.chunks.filter(pk__in=selected)))
        n_calls = wanted.count()
        t0 = time.monotonic()
        for chunk_id in selected:
            tasks.render_chunk.delay(chunk_id)
        while wanted.filter(pdf="").exists():
            time.sleep(0.1)
        campaign_rate = n_calls / (time.monotonic() - t0)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    assert set(wanted.values_list("render_count", flat=True)) == {1}

    # Bare WeasyPrint: the same template and the same calls, in a loop, in one process.
    from cnas.pdf import render_pdf

    sample = list(wanted.select_related("adherent", "regularises"))
    t0 = time.monotonic()
    for call in sample:
        render_pdf("adhesions/pdf/call.html", {"call": call, "adherent": call.adherent, "scale": scale})
    bare_rate = len(sample) / (time.monotonic() - t0)

    print(f"Campaign {year}: {floor_count} calls, {floor_total} € in all "
          f"({options.adherents} adherents and {options.agents} agents seeded in {seeded:.0f} s)")
    print(f"  computation (compute_campaign)   {compute_seconds:7.2f} s")
    print(f"  floor: bare SQL computing amounts {floor_seconds:7.2f} s   ratio {compute_seconds / floor_seconds:.2f} "
          f"(target <= 3: {'OK' if compute_seconds <= 3 * floor_seconds else 'MISSED'})")
    print(f"  PDF calls, campaign (worker, 2 processes): {campaign_rate:6.1f} /s over {n_calls} calls")
    print(f"  PDF calls, bare WeasyPrint loop (1 process): {bare_rate:6.1f} /s   ratio {campaign_rate / bare_rate:.2f}")
    print(f"  all {floor_count} PDFs at the campaign's rate: about {floor_count / campaign_rate / 60:.0f} min")


if __name__ == "__main__":
    main()
