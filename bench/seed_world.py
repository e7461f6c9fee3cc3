"""Benchmark: build the national-scale demo world (seed_demo --agents N --adherents M).

Runs against its own database (cnas_bench, dropped and recreated), so the demo data of
`make run` is untouched. Prints the time of the set-based SQL path for N agents and,
as a baseline measured in the same run, the time of the ORM's bulk_create for a sample
of the same rows, extrapolated to N.

    .venv/bin/python bench/seed_world.py [--agents 1000000] [--adherents 21000] [--baseline 20000]
"""

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DB = "postgres://postgres@127.0.0.1:5432/cnas_bench"


def sh(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    return result.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1_000_000)
    parser.add_argument("--adherents", type=int, default=21_000)
    parser.add_argument("--baseline", type=int, default=20_000, help="agents built by bulk_create")
    options = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", BENCH_DB)}

    import psycopg

    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS cnas_bench")
        conn.execute("CREATE DATABASE cnas_bench")
    sh("migrate", "--noinput", env=env)

    started = time.monotonic()
    out = sh("seed_demo", "--agents", str(options.agents), "--adherents", str(options.adherents), env=env)
    seconds = time.monotonic() - started
    counts = sh("shell", "--no-imports", "-c", (
        "from accounts.models import Agent, FamilyMember; "
        "from adhesions.models import Adherent, Coverage, Employment; "
        "print(Adherent.objects.count(), Agent.objects.count(), Employment.objects.count(), "
        "Coverage.objects.count(), FamilyMember.objects.count())"), env=env).split()

    baseline = sh("shell", "--no-imports", "-c", BASELINE.replace("N_AGENTS", str(options.baseline)), env=env)
    baseline_seconds = float(baseline.strip().splitlines()[-1])
    extrapolated = baseline_seconds * options.agents / options.baseline

    print(f"seed_demo --agents {options.agents} --adherents {options.adherents}")
    print(f"  adherents={counts[0]} agents={counts[1]} employments={counts[2]} coverage={counts[3]} "
          f"household={counts[4]}")
    print(f"  set-based SQL:        {seconds:8.1f} s  (whole command, small demo world included)")
    print(f"  baseline bulk_create: {baseline_seconds:8.1f} s for {options.baseline} agents "
          f"-> {extrapolated:8.1f} s extrapolated to {options.agents}")
    print(f"  ratio baseline / set-based: {extrapolated / seconds:.1f}x")
    print(f"  target: < 300 s for 1,000,000 agents -> {'OK' if seconds < 300 else 'MISSED'}")
    for line in out.splitlines():
        if " créés en " in line:
            print("  " + line)
    print(f"  measured {datetime.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores")


# The same rows (agent, employment, coverage, ~1.3 household members) through the ORM's
# bulk_create, the usual "fast" Django way: the baseline.
BASELINE = """
import datetime, random, time
from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateRange
from accounts.models import Agent, FamilyMember
from adhesions.models import Adherent, Coverage, Employment
rng = random.Random(1)
employers = list(Adherent.objects.exclude(kind="cos").values_list("pk", flat=True)[:500])
t0 = time.monotonic()
with transaction.atomic():
    agents = Agent.objects.bulk_create([
        Agent(last_name=f"Base{i}", first_name="Ligne", sex="F", birth_date=datetime.date(1980, 1, 1)
              + datetime.timedelta(days=rng.randrange(9000)), email=f"base{i}@agents.example")
        for i in range(N_AGENTS)], batch_size=5000)
    Employment.objects.bulk_create([
        Employment(agent=a, employer_id=rng.choice(employers), employee_number=f"B{a.pk}",
                   start_date=datetime.date(2010, 1, 1)) for a in agents], batch_size=5000)
    Coverage.objects.bulk_create([
        Coverage(agent=a, adherent_id=e, period=DateRange(datetime.date(2010, 1, 1), None, "[)"),
                 source="employment")
        for a, e in zip(agents, Employment.objects.filter(agent__in=agents).values_list("employer_id", flat=True))],
        batch_size=5000)
    FamilyMember.objects.bulk_create([
        FamilyMember(agent=a, relation="child", first_name="Enfant", last_name=a.last_name,
                     birth_date=datetime.date(2015, 1, 1))
        for a in agents for _ in range(rng.choice([0, 1, 1, 2, 3]) // 2 + 0)], batch_size=5000)
print(time.monotonic() - t0)
"""

if __name__ == "__main__":
    main()
