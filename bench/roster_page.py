"""Benchmark: the roster page in the national world (target: under 200 ms; 100 ms p95 over HTTP, see
bench/http_load.py).

Runs in the world of bench/world.py (built once, reused). For the employer whose roster is nearest to
5,000 agents and for the largest one, their correspondent (bench/world.py's people) opens the roster:
first page, a search, a filter, a deep page sorted by number, the CSV export. Each page is measured in
turn with the bare authenticated view /sante/web/ (the same client: session and user loaded, one query),
so the ratio is what the page itself costs, and with the same page of the demo's employer of about 50
agents (its own correspondent), the second reference: the roster must not grow with its size (page,
bare, reference, page, bare, reference…). Server time through Django's test client, DEBUG as configured
(on by default); query counts.

    .venv/bin/python bench/roster_page.py [--repeat 30] [--agents 1000000 --adherents 21000 --requests 3000000]
"""

import math

import _common as bench

BARE = "/sante/web/"
DEEP_PAGE = 40
PAGE_SIZE = 50


def small_reference():
    """A correspondent of the demo world (always in the world) and his employer nearest to 50 agents."""
    from django.db.models import Count, Q

    from adhesions.models import Manager

    managers = (Manager.objects.filter(role=Manager.Role.CORRESPONDENT).exclude(user__email__endswith="@bench.test")
                .select_related("user", "adherent")
                .annotate(n=Count("adherent__employments", filter=Q(adherent__employments__end_date__isnull=True))))
    manager = min(managers, key=lambda m: abs(m.n - 50), default=None)
    if manager is None:
        return None
    manager.adherent.n = manager.n
    return manager.user, manager.adherent


def cases(n: int) -> list[tuple[str, str, str]]:
    """(key, label, path) of the pages measured for a roster of ``n`` agents (the deep page: 40, or the last)."""
    deep = max(1, min(DEEP_PAGE, math.ceil(n / PAGE_SIZE)))
    return [("first", "first page", ""), ("search", "search 'mar'", "?q=mar"),
            ("filter", "retired, not covered", "?situation=retired&covered=no"),
            ("deep", f"page {deep}, sorted by number", f"?sort=-matricule&page={deep}"),
            ("csv", "CSV export", "export.csv")]


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    options = parser.parse_args()
    _sizes, people = bench.start(options)
    employers = [(people.typical, people.typical_employer, f"nearest to 5,000 agents, {people.typical.email}")]
    if people.big_employer.pk != people.typical_employer.pk:
        employers.append((people.big, people.big_employer, f"the largest, {people.big.email}"))
    reference = small_reference()
    ref_user, ref_employer = reference if reference else (None, None)
    ref_client = bench.client_for(ref_user) if reference else None
    ref_cases = {key: path for key, _label, path in cases(ref_employer.n)} if reference else {}
    print(f"Roster pages, {options.repeat} requests each, in turn with the bare view {BARE} (same client)"
          + (f" and with the same page of {ref_employer.name} ({ref_employer.n} agents, {ref_user.email})"
             if reference else ""))
    worst = 0.0
    for user, employer, label in employers:
        client = bench.client_for(user)
        print(f"\n{employer.name}: {employer.n:,} agents ({label})")
        print(f"{'case':<28}{'p50 ms':>8}{'p95 ms':>8}{'queries':>8} | {'bare p50':>8}{'ratio':>7} | "
              f"{'ref. p50':>8}{'queries':>8}{'ratio':>7}")
        for key, name, path in cases(employer.n):
            url = f"/collectivite/{employer.pk}/agents/{path}"
            requests = [(client, url), (client, BARE)]
            if reference:
                ref_url = f"/collectivite/{ref_employer.pk}/agents/{ref_cases[key]}"
                requests.append((ref_client, ref_url))
            measured, base, *ref = bench.rotate(requests, options.repeat)
            count = bench.queries(client, url)
            p50, p95, bare = bench.p50(measured), bench.p95(measured), bench.p50(base)
            if key != "csv":
                worst = max(worst, p95)
            if reference:
                ref_p50 = bench.p50(ref[0])
                ref_text = f"{ref_p50:>8.1f}{bench.queries(ref_client, ref_url):>8}{p50 / ref_p50:>7.2f}"
            else:
                ref_text = f"{'—':>8}{'—':>8}{'—':>7}"
            print(f"{name:<28}{p50:>8.1f}{p95:>8.1f}{count:>8} | {bare:>8.1f}{p50 / bare:>7.2f} | {ref_text}",
                  flush=True)
    print(f"\nworst p95 of the pages (export aside): {worst:.1f} ms -> target < 200 ms: "
          f"{'OK' if worst < 200 else 'MISSED'}")
    bench.finish(options)


if __name__ == "__main__":
    main()
