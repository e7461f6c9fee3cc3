"""How the heavy queries run in the national world: for each page users wait for (and the campaign's
computation, the queue's tabs, the exports), the page is fetched in-process, its queries captured,
and the slowest ones run again under EXPLAIN (ANALYZE, BUFFERS). Prints, for each page, its query
count, the time of its slowest queries and the top of their plans; with --full, whole plans.
Run it at two sizes to see what grows with the data:

    .venv/bin/python bench/explain.py [--agents 1000000 --adherents 21000 --requests 3000000] [--full]
"""

import argparse
import os
import time

import world


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--top", type=int, default=2)
    parser.add_argument("--only", nargs="+", help="keys of the pages (as in http_load.py)")
    for key, value in world.NATIONAL.items():
        parser.add_argument(f"--{key}", type=int, default=value)
    options = parser.parse_args()
    sizes = {key: getattr(options, key) for key in world.NATIONAL}
    info = world.ensure(sizes)
    os.environ["DEBUG"] = "1"
    world.setup_django()
    import http_load
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    people = world.people()
    pages = [*http_load.pages(people),
        ("queue_late", "admin queue « En retard »", people.instructor, "/admin/prestations/demande/?file=retard"),
        ("queue_all", "admin queue « Toutes »", people.instructor, "/admin/prestations/demande/?file=toutes"),
        ("queue_national", "admin queue, national", people.supervisor, "/admin/prestations/demande/"),
    ]
    print(world.describe(sizes, info))
    for key, label, user, path in pages:
        if options.only and key not in options.only:
            continue
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
        total = sum(float(q["time"]) for q in queries) * 1000
        print(f"\n== {label} ({path}): {elapsed:.1f} ms, {len(queries)} queries, {total:.1f} ms in the database")
        for query in queries[:options.top]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = [row[0] for row in cursor.fetchall()]
            print(f"  -- {float(query['time']) * 1000:.1f} ms: {query['sql'][:160]}…")
            shown = plan if options.full else [line for line in plan if "Execution Time" in line
                                               or not line.startswith(" ")][:1] + [
                line for line in plan if line.lstrip().startswith(("->", "Index", "Seq", "Bitmap"))][:6]
            for line in shown:
                print("     " + line[:150])
            print("     " + next(line for line in plan if "Execution Time" in line))


if __name__ == "__main__":
    main()
