"""Benchmark: the agent's pages in the national world (1,000,000 agents, 3,000,000 requests).

Runs in the world of bench/world.py (built once, reused). The benchmark agent (an agent of the world with
a household and requests of his own, who has an account: bench/world.py's people) opens his home, the
catalogue, a prestation page (with its median instruction time), his requests and one of them. Each
page is alternated with the bare authenticated view /sante/web/ (the same client: session and user
loaded, one query), so the ratio is what the page itself costs. Server time through Django's test
client, DEBUG as configured (on by default); query counts.

    .venv/bin/python bench/catalogue.py [--repeat 20] [--agents 1000000 --adherents 21000 --requests 3000000]
"""

import _common as bench

BARE = "/sante/web/"


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    _sizes, people = bench.start(options)

    import http_load

    from prestations.models import Demande, PrestationDelays

    agent = people.agent.agent
    pages = {key: (label, path) for key, label, _user, path in http_load.pages(people)}
    measured_pages = [
        ("home", *pages["home"]), ("catalogue", *pages["catalogue"]), ("prestation", *pages["prestation"]),
        ("demandes", "my requests", "/espace/demandes/"), ("demande", *pages["demande"]),
    ]
    delays = PrestationDelays.objects.count()
    print(f"Benefit pages of {agent} ({Demande.objects.filter(agent=agent).count()} requests, "
          f"{agent.household.count()} in the household); prestations' delays computed: "
          f"{'yes' if delays else 'no (the world has none: the prestation page shows none)'}")
    print(f"{options.repeat} requests a page, alternated with the bare view {BARE} (same client)")
    print(f"{'page':<28}{'p50 ms':>8}{'p95 ms':>8}{'queries':>8} | {'bare p50':>8}{'ratio':>7}")
    client = bench.client_for(people.agent)
    for _key, label, path in measured_pages:
        measured, base = bench.alternate(client, path, BARE, options.repeat)
        count = bench.queries(client, path)
        p50, bare = bench.p50(measured), bench.p50(base)
        print(f"{label:<28}{p50:>8.1f}{bench.p95(measured):>8.1f}{count:>8} | {bare:>8.1f}{p50 / bare:>7.2f}",
              flush=True)
    bench.finish(options)


if __name__ == "__main__":
    main()
