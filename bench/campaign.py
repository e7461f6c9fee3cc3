"""Benchmark: the contribution campaign in the national world (21,000 adherents, 1,000,000 agents).

Runs in the world of bench/world.py (built once, reused), for a year no other run uses (this year + 2):
every employer declares its payroll of the year before, a scale is made, then in one run:

- the campaign's computation (compute_campaign: every call issued in one INSERT … SELECT, and the chunks
  cut), alternated with its floor: one bare SQL statement computing the same amounts (the campaign's
  SELECT alone, nothing written), floor, campaign, floor, campaign… (the calls deleted between two
  computations); target: within three times the floor;
- the PDF calls: the campaign's chunk tasks on a real `celery worker --concurrency=2` and on one with
  `--concurrency=1` (both started once, each on a queue of its own, warmed up with a few calls), alternated
  with bare WeasyPrint in this process (1 process, one FontConfiguration for all its documents as each
  worker process has): on a plain one-page document (the call's own words as plain paragraphs, a section
  each, no style) and on the call's own HTML (the template already rendered, its stylesheet parsed once, as
  render_pdf does). The rates are per process; the target is a call at least as fast per process as the
  plain document, and all the calls of the national campaign in under 15 minutes at the 2-process rate.

The run leaves the world as it found it: its declarations, scale, campaign, calls and chunks are deleted
at the end (and their history rows), its PDFs written to a temporary directory; a run interrupted is
cleaned up by the next one.

    .venv/bin/python bench/campaign.py [--rounds 3] [--render-rounds 2] [--chunks 4] [--loop 60]
                                       [--agents 1000000 --adherents 21000 --requests 3000000]
"""

import datetime
import html
import statistics
import time
from decimal import Decimal
from html.parser import HTMLParser

import _common as bench
import world

MARK = "bench/campaign.py"  # the reason of the payroll declarations this benchmark makes
SECTIONS = {"h1", "h2", "h3", "div", "table"}  # a paragraph of the plain document each
LINES = {"p", "br", "li", "tr", "small"}  # lines of a section: a space between their words


class Words(HTMLParser):
    """The words of a rendered HTML document, section by section (a heading starts one); the head (title,
    style) left out."""

    def __init__(self):
        super().__init__()
        self.blocks, self.current, self.skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("head", "style", "title"):
            self.skip += 1
        elif tag in SECTIONS:
            self.flush()
        elif tag in LINES:
            self.current.append(" ")

    def handle_endtag(self, tag):
        if tag in ("head", "style", "title"):
            self.skip -= 1
        elif tag in SECTIONS:
            self.flush()
        elif tag in LINES:
            self.current.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.current.append(data)

    def flush(self):
        text = " ".join("".join(self.current).split())
        if text:
            self.blocks.append(text)
        self.current = []


def plain_document(rendered: str) -> str:
    """The call's own text as plain paragraphs (a section each), no styling: one page."""
    words = Words()
    words.feed(rendered)
    words.close()
    words.flush()
    return "<!doctype html><html><body>" + "".join(f"<p>{html.escape(b)}</p>" for b in words.blocks) + "</body></html>"


def cleanup(year: int) -> None:
    """Delete what this benchmark made for ``year``: calls, chunks, campaign, scale, declarations, and the
    history rows their deletion leaves."""
    with bench.deleting():
        delete_calls(year)
        scales = ids("DELETE FROM adhesions_contributionscale WHERE year = %s RETURNING id", [year])
        bench.forget_history("adhesions_contributionscale", scales)
        declarations = ids("DELETE FROM adhesions_payrolldeclaration WHERE year = %s AND reason = %s RETURNING id",
                           [year - 1, MARK])
        bench.forget_history("adhesions_payrolldeclaration", declarations)


def delete_calls(year: int) -> None:
    """The campaign of ``year``, its chunks and its calls (and the history rows of the calls' deletion)."""
    campaign = "SELECT c.id FROM adhesions_campaign c JOIN adhesions_contributionscale s ON s.id = c.scale_id " \
               "WHERE s.year = %s"
    bench.sql(f"DELETE FROM adhesions_campaignchunk WHERE campaign_id IN ({campaign})", [year])
    calls = ids(f"DELETE FROM adhesions_contributioncall WHERE campaign_id IN ({campaign}) RETURNING id", [year])
    bench.forget_history("adhesions_contributioncall", calls)
    bench.sql(f"DELETE FROM adhesions_campaign WHERE id IN ({campaign})", [year])


def ids(statement: str, params) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return [row[0] for row in cursor.fetchall()]


def main() -> None:
    parser = bench.parser(__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="computations, each after its floor")
    parser.add_argument("--render-rounds", type=int, default=2, help="rounds of rendering (both workers, baselines)")
    parser.add_argument("--chunks", type=int, default=4, help="chunks (of 100 calls) the 2-process worker renders "
                                                              "each round; the 1-process one renders half")
    parser.add_argument("--loop", type=int, default=60, help="documents each bare WeasyPrint loop renders")
    options = parser.parse_args()
    year = datetime.date.today().year + 2  # not the demo's years

    def clean_leftovers() -> None:
        from adhesions.models import PayrollDeclaration

        if PayrollDeclaration.objects.filter(year=year - 1, reason=MARK).exists():
            print(f"  (cleaning up after an interrupted run: campaign {year})")
            cleanup(year)

    sizes, _people = bench.start(options, redis=bench.WORKER_REDIS, private_files=True, prepare=clean_leftovers)

    from django.db import connection

    from adhesions.models import ContributionScale

    if ContributionScale.objects.filter(year=year).exists():
        raise SystemExit(f"The world has a scale of its own for {year}: this benchmark will not touch it.")
    try:
        with connection.cursor() as cursor:  # every employer declares its payroll of the year before
            cursor.execute("""
                INSERT INTO adhesions_payrolldeclaration (adherent_id, year, gross_payroll, working_headcount,
                    retired_headcount, declared_at, is_correction, reason)
                SELECT e.employer_id, %s, count(*) * 31200, count(*), 0, now(), false, %s
                FROM adhesions_employment e WHERE e.end_date IS NULL GROUP BY e.employer_id""", [year - 1, MARK])
            cursor.execute("ANALYZE adhesions_payrolldeclaration")
        scale = ContributionScale.objects.create(
            year=year, payroll_rate=Decimal("0.86"), floor_per_agent=Decimal("150"), ceiling_per_agent=Decimal("420"),
            cos_per_agent=Decimal("125"), retired_flat=Decimal("137.80"), due_date=datetime.date(year, 3, 31))
        campaign, chunk_ids = computation(options, scale)
        rendering(options, scale, campaign, chunk_ids, national=sizes == world.NATIONAL)
    finally:
        cleanup(year)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE adhesions_payrolldeclaration")
            cursor.execute("ANALYZE adhesions_contributioncall")
    bench.finish(options)


def computation(options, scale):
    from django.db import connection

    from adhesions import services
    from adhesions.computation import computation_sql, scale_params
    from adhesions.models import Campaign, ContributionCall

    def floor() -> tuple[float, int, Decimal]:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), sum(amount) FROM ({computation_sql()}) c", scale_params(scale))
            count, total = cursor.fetchone()
        return time.perf_counter() - started, count, total

    floor()  # warm the caches, as the campaign will find them
    floors, computes = [], []
    for number in range(options.rounds):
        seconds, count, total = floor()
        floors.append(seconds)
        if number:
            with bench.deleting():
                delete_calls(scale.year)
        campaign = Campaign.objects.create(scale=scale)
        started = time.perf_counter()
        chunk_ids = services.compute_campaign(campaign_id=campaign.pk)
        computes.append(time.perf_counter() - started)
        calls = ContributionCall.objects.filter(campaign=campaign)
        campaign_total = sum(calls.values_list("amount", flat=True))
        assert calls.count() == count and campaign_total == total, "the campaign and the floor disagree"
    compute, floor_seconds = statistics.median(computes), statistics.median(floors)
    print(f"Campaign {scale.year}: {count:,} calls, {total:,} € in all; {options.rounds} computations, each after "
          f"its floor (medians)")
    print(f"  computation (compute_campaign)      {compute:7.2f} s   ({', '.join(f'{s:.2f}' for s in computes)})")
    print(f"  floor: bare SQL computing amounts   {floor_seconds:7.2f} s   ({', '.join(f'{s:.2f}' for s in floors)})")
    print(f"  ratio {compute / floor_seconds:.2f} (target <= 3: {'OK' if compute <= 3 * floor_seconds else 'MISSED'})",
          flush=True)
    return campaign, chunk_ids


def rendering(options, scale, campaign, chunk_ids, *, national: bool) -> None:
    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from adhesions import tasks
    from adhesions.models import CampaignChunk, ContributionCall
    from cnas.pdf import _font_config, stylesheet

    # The chunks are sent to the workers here (each worker on a queue of its own), not through the outbox.
    chunks = list(CampaignChunk.objects.filter(pk__in=chunk_ids).order_by("index"))
    runs = {2: chunks[:max(1, options.chunks)], 1: chunks[:max(1, options.chunks // 2)]}

    def calls_of(selected):
        return ContributionCall.objects.filter(campaign=campaign, id__gte=selected[0].first_call_id,
                                               id__lte=selected[-1].last_call_id)

    # The bare documents: the call's HTML (the template rendered once, as render_pdf does) and its words.
    sample = list(calls_of(runs[2]).select_related("adherent", "regularises").order_by("id")[:options.loop])
    own = [render_to_string("adhesions/pdf/call.html", {
        "call": call, "adherent": call.adherent, "scale": scale, "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_FULL_NAME": settings.PORTAL_FULL_NAME, "BODY": settings.NATIONAL_BODY}) for call in sample]
    plain = [plain_document(text) for text in own]
    pages = {len(HTML(string=text).render().pages) for text in plain}
    assert pages == {1}, f"the plain document should be one page, not {pages}"
    base_url = str(settings.BASE_DIR)

    def loop(documents, **render) -> tuple[int, float]:
        started = time.perf_counter()
        for n in range(options.loop):
            HTML(string=documents[n % len(documents)], base_url=base_url).write_pdf(**render)
        return options.loop, time.perf_counter() - started

    def warm_up(concurrency: int) -> None:
        """A few calls rendered by each process of the worker, untimed (templates, fonts); worker_run
        renders them again."""
        some = list(calls_of(runs[concurrency]).order_by("id").values_list("id", flat=True)[:2 * concurrency])
        ContributionCall.objects.filter(pk__in=some).update(pdf="")
        for result in [tasks.render_single_call.apply_async(kwargs={"call_id": pk}, queue=f"bench-c{concurrency}")
                       for pk in some]:
            result.get(timeout=600)

    def worker_run(concurrency: int) -> tuple[int, float]:
        selected = runs[concurrency]
        wanted = calls_of(selected)
        wanted.update(pdf="")  # rendered again each round (their earlier files stay in the temporary directory)
        CampaignChunk.objects.filter(pk__in=[c.pk for c in selected]).update(status=CampaignChunk.Status.PENDING)
        before = sum(wanted.values_list("render_count", flat=True))
        started = time.perf_counter()
        results = [tasks.render_chunk.apply_async((chunk.pk,), queue=f"bench-c{concurrency}") for chunk in selected]
        for result in results:
            result.get(timeout=3600)
        seconds = time.perf_counter() - started
        n = wanted.count()
        assert not wanted.filter(pdf="").exists() and sum(wanted.values_list("render_count", flat=True)) == before + n
        return n, seconds

    # Both bare loops share one FontConfiguration, as render_pdf does in each worker process (a new one
    # for each document would make the plain document twice as slow, the baseline too easy).
    loop(plain[:2], font_config=_font_config())  # warm-up: fonts, WeasyPrint's caches
    call_css = [stylesheet("adhesions/pdf/call.css")]  # parsed once per process, as render_pdf does
    loop(own[:2], font_config=_font_config(), stylesheets=call_css)
    totals = {key: [0, 0.0] for key in ("c2", "c1", "plain", "own")}

    def add(key, result):
        totals[key][0] += result[0]
        totals[key][1] += result[1]

    bench.flush_broker()
    with bench.outbox_cleaned(), bench.Worker(concurrency=2, queues="bench-c2") as two, \
            bench.Worker(concurrency=1, queues="bench-c1") as one:
        print(f"Rendering: workers ready in {two.start_seconds:.1f} s (2 processes) and {one.start_seconds:.1f} s "
              f"(1 process); {options.render_rounds} rounds of: worker 2 processes ({len(runs[2])} chunks), plain, "
              f"own HTML, worker 1 process ({len(runs[1])} chunks), plain, own HTML", flush=True)
        warm_up(2)
        warm_up(1)
        for _ in range(options.render_rounds):
            add("c2", worker_run(2))
            add("plain", loop(plain, font_config=_font_config()))
            add("own", loop(own, font_config=_font_config(), stylesheets=call_css))
            add("c1", worker_run(1))
            add("plain", loop(plain, font_config=_font_config()))
            add("own", loop(own, font_config=_font_config(), stylesheets=call_css))
    bench.flush_broker()

    rate = {key: n / seconds for key, (n, seconds) in totals.items()}
    per_process = {"c2": rate["c2"] / 2, "c1": rate["c1"], "plain": rate["plain"], "own": rate["own"]}
    total_calls = ContributionCall.objects.filter(campaign=campaign).count()
    print(f"{'PDF calls':54} {'calls':>6} {'/s':>7} {'/s per process':>15} {'÷ plain':>8}")
    for key, label in (("c2", "campaign's chunks, celery worker --concurrency=2"),
                       ("c1", "campaign's chunks, celery worker --concurrency=1"),
                       ("plain", "bare WeasyPrint, plain one-page document (1 process)"),
                       ("own", "bare WeasyPrint, the call's own HTML (1 process)")):
        print(f"  {label:52} {totals[key][0]:6d} {rate[key]:7.1f} {per_process[key]:15.1f} "
              f"{per_process[key] / per_process['plain']:8.2f}")
    for key, processes in (("c2", 2), ("c1", 1)):
        ratio = per_process[key] / per_process["plain"]
        print(f"  target: a call per process ({processes} process{'es' if processes > 1 else ''}) at least as fast "
              f"as the plain document: ratio {ratio:.2f} -> {'OK' if ratio >= 1 else 'MISSED'}")
    minutes = total_calls / rate["c2"] / 60
    print(f"  all {total_calls:,} calls of this campaign at the 2-process rate: {minutes:.1f} min")
    if not national:  # a smaller world: about one call per adherent of the national one
        minutes = world.NATIONAL["adherents"] / rate["c2"] / 60
        print(f"  a national campaign (about {world.NATIONAL['adherents']:,} calls) at this rate: {minutes:.1f} min")
    print(f"  target: all calls of the national campaign in under 15 min on 2 cores -> "
          f"{'OK' if minutes < 15 else 'MISSED'}")


if __name__ == "__main__":
    main()
