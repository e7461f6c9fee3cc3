"""The contribution campaign, its PDF calls and regularisations."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.computation import compute, compute_one, insert_calls
from adhesions.models import (
    Adherent,
    AdherentKind,
    Campaign,
    CampaignChunk,
    ContributionCall,
    ContributionScale,
)
from adhesions.services._common import _user
from cnas import audit, outbox
from cnas.links import absolute_reverse
from cnas.money import round_cents
from cnas.pdf import render_pdf

CHUNK_SIZE = 100


def check_campaign_year(scale: ContributionScale, *, today: datetime.date | None = None) -> None:
    """A campaign is for this year or the next, never further ahead (its payroll basis would not exist)."""
    today = today or timezone.localdate()
    if scale.year > today.year + 1:
        raise ValidationError(_("La campagne %(year)s ne peut pas être lancée avant %(from)s : on lance au plus "
                                "celle de l'année prochaine.") % {"year": scale.year, "from": scale.year - 1})


@dataclass
class CampaignPreview:
    """What the staff member reads before launching: totals by kind of adherent, and the employers
    without a payroll declaration for the reference year (they will be called the floor)."""

    scale: ContributionScale
    totals: list[tuple[str, int, Decimal]]
    total_amount: Decimal
    without_payroll: list[Adherent]

    @property
    def payroll_year(self) -> int:
        return self.scale.year - 1


def preview_campaign(*, scale: ContributionScale) -> CampaignPreview:
    rows = compute(scale)
    kinds = dict(AdherentKind.choices)
    totals: dict[str, tuple[int, Decimal]] = {}
    for row in rows:
        count, amount = totals.get(row.kind, (0, Decimal("0")))
        totals[row.kind] = (count + 1, amount + row.amount)
    missing = [row.adherent_id for row in rows if row.kind != AdherentKind.COS and row.payroll is None]
    if scale.employer_mode == "per_agent":
        missing = []  # the payroll plays no part
    return CampaignPreview(
        scale=scale, totals=[(str(kinds.get(kind, kind)), n, amount) for kind, (n, amount) in sorted(totals.items())],
        total_amount=sum((amount for _n, amount in totals.values()), Decimal("0")),
        without_payroll=list(Adherent.objects.filter(pk__in=missing).select_related("region").order_by("name")))


@transaction.atomic
def remind_missing_payroll(*, actor, scale: ContributionScale) -> int:
    """E-mail the correspondents of every employer without a payroll declaration for the year before
    the scale's: declare it before the campaign, or be called the floor."""
    preview = preview_campaign(scale=scale)
    sent = 0
    for adherent in preview.without_payroll:
        recipients = sorted({m.user.email for m in adherent.managers.select_related("user")}
                            | ({adherent.email} if adherent.email else set()))
        if not recipients:
            continue
        link = absolute_reverse("collectivite:payroll", adherent.pk)
        outbox.enqueue("cnas.tasks.send_email", to=recipients,
                       subject=_("Déclarez votre masse salariale %(year)s") % {"year": preview.payroll_year},
                       body=_("Bonjour,\n\nLa campagne de cotisation %(campaign)s va être lancée. %(name)s n'a pas "
                              "déclaré sa masse salariale brute %(year)s : sans elle, la cotisation est calculée "
                              "au plancher par agent.\n\nDéclarer la masse salariale : %(link)s\n") % {
                           "campaign": scale.year, "name": adherent.name, "year": preview.payroll_year, "link": link})
        audit.record(actor=actor, action="payroll.reminder", target=adherent, changes={"année": preview.payroll_year})
        sent += 1
    return sent


@transaction.atomic
def start_campaign(*, actor, scale: ContributionScale) -> Campaign:
    """Start (or resume) the campaign of the scale's year on the worker. Running it again
    issues only the calls not issued yet: a call, once issued, never changes."""
    check_campaign_year(scale)
    campaign, created = Campaign.objects.select_for_update().get_or_create(
        scale=scale, defaults={"started_by": _user(actor)})
    if not created:
        campaign.status = Campaign.Status.COMPUTING
        campaign.finished_at = None
        campaign.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="campaign.start" if created else "campaign.restart", target=campaign)

    outbox.enqueue("adhesions.tasks.compute_campaign", campaign_id=campaign.pk,
                   dedupe_key=f"compute_campaign:{campaign.pk}")
    return campaign


def compute_campaign(*, campaign_id: int, issued_on: datetime.date | None = None) -> list[int]:
    """Worker side: issue the calls in one statement and cut them into chunks; return the
    chunks to render. Safe to run twice."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("scale").get(pk=campaign_id)
        if campaign.status == Campaign.Status.COMPUTING:
            insert_calls(campaign.scale, campaign_id=campaign.pk, issued_on=issued_on or timezone.localdate())
            covered = list(CampaignChunk.objects.filter(campaign=campaign).values_list("last_call_id", flat=True))
            after = max(covered, default=0)
            ids = list(ContributionCall.objects.filter(campaign=campaign, id__gt=after).order_by("id")
                       .values_list("id", flat=True))
            start = CampaignChunk.objects.filter(campaign=campaign).count()
            CampaignChunk.objects.bulk_create([
                CampaignChunk(campaign=campaign, index=start + n, first_call_id=chunk[0], last_call_id=chunk[-1])
                for n, chunk in enumerate(ids[i:i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE))
            ])
            campaign.computed_count = ContributionCall.objects.filter(campaign=campaign).count()
            campaign.status, campaign.computed_at = Campaign.Status.RENDERING, timezone.now()
            campaign.save(update_fields=["computed_count", "status", "computed_at"])
        pending = list(campaign.chunks.exclude(status=CampaignChunk.Status.DONE).values_list("id", flat=True))
    if not pending:
        finish_campaign(campaign_id=campaign_id)
    return pending


RENDER_BATCH = 10  # calls locked, rendered and committed together by a chunk's worker


def render_calls(calls: list[ContributionCall], *, scale: ContributionScale | None) -> None:
    """Render and store the PDFs of ``calls`` (locked, with no PDF yet) in one UPDATE. If one fails,
    the files already written for the others are deleted: the transaction rolls back and the calls are
    rendered again, once, from a clean slate."""
    saved = []
    try:
        for call in calls:
            content = render_pdf("adhesions/pdf/call.html", {"call": call, "adherent": call.adherent,
                                                             "scale": scale}, css="adhesions/pdf/call.css")
            call.pdf.save(f"{call.reference}.pdf", ContentFile(content), save=False)
            saved.append(call.pdf.name)
            call.render_count += 1  # the row is locked: no other worker counts at the same time
        ContributionCall.objects.bulk_update(calls, ["pdf", "render_count"])
    except BaseException:
        storage = ContributionCall._meta.get_field("pdf").storage
        for name in saved:
            storage.delete(name)
        raise


def render_chunk(*, chunk_id: int) -> str:
    """Worker side: render the PDFs of one chunk, ten calls to a transaction, each call exactly once
    whoever else runs the same chunk (row locks, SKIP LOCKED)."""
    with transaction.atomic():
        chunk = (CampaignChunk.objects.select_for_update(of=("self",)).select_related("campaign__scale")
                 .get(pk=chunk_id))
        if chunk.status == CampaignChunk.Status.DONE:
            return chunk.status
        chunk.status, chunk.attempts, chunk.error = CampaignChunk.Status.RUNNING, chunk.attempts + 1, ""
        chunk.save(update_fields=["status", "attempts", "error", "updated_at"])
    unrendered = ContributionCall.objects.filter(campaign_id=chunk.campaign_id, id__gte=chunk.first_call_id,
                                                 id__lte=chunk.last_call_id, pdf="")
    try:
        while True:
            with transaction.atomic():
                calls = list(unrendered.select_for_update(skip_locked=True, of=("self",))
                             .select_related("adherent", "regularises").order_by("id")[:RENDER_BATCH])
                if not calls:
                    break
                render_calls(calls, scale=chunk.campaign.scale)
    except Exception as exc:  # the chunk is marked failed, to be retried alone from the admin
        CampaignChunk.objects.filter(pk=chunk_id).update(status=CampaignChunk.Status.FAILED,
                                                         error=f"{type(exc).__name__}: {exc}"[:2000])
        finish_campaign(campaign_id=chunk.campaign_id)
        raise
    left = unrendered.exists()
    if not left:
        CampaignChunk.objects.filter(pk=chunk_id).update(status=CampaignChunk.Status.DONE)
        finish_campaign(campaign_id=chunk.campaign_id)
    return CampaignChunk.Status.DONE if not left else CampaignChunk.Status.RUNNING


def finish_campaign(*, campaign_id: int) -> None:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != Campaign.Status.RENDERING:
            return
        states = set(campaign.chunks.values_list("status", flat=True))
        if states & {CampaignChunk.Status.PENDING, CampaignChunk.Status.RUNNING}:
            return
        campaign.status = Campaign.Status.FAILED if CampaignChunk.Status.FAILED in states else Campaign.Status.DONE
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])


@transaction.atomic
def retry_failed_chunks(*, actor, campaign: Campaign) -> int:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    failed = list(campaign.chunks.filter(status=CampaignChunk.Status.FAILED).values_list("id", flat=True))
    if failed:
        CampaignChunk.objects.filter(pk__in=failed).update(status=CampaignChunk.Status.PENDING)
        campaign.status, campaign.finished_at = Campaign.Status.RENDERING, None
        campaign.save(update_fields=["status", "finished_at"])
        audit.record(actor=actor, action="campaign.retry", target=campaign, changes={"lots": len(failed)})

        for pk in failed:
            outbox.enqueue("adhesions.tasks.render_chunk", chunk_id=pk, dedupe_key=f"render_chunk:{pk}")
    return len(failed)


def resume_unfinished_campaigns(*, idle_for: datetime.timedelta | None = None) -> int:
    """Put unfinished campaigns back on their way: at a worker's start (everything left), and
    from beat (only what has not moved for ``idle_for``). Nothing done is done again."""

    resumed = 0
    for campaign in Campaign.objects.filter(status__in=[Campaign.Status.COMPUTING, Campaign.Status.RENDERING]):
        if campaign.status == Campaign.Status.COMPUTING:
            outbox.enqueue("adhesions.tasks.compute_campaign", campaign_id=campaign.pk,
                           dedupe_key=f"compute_campaign:{campaign.pk}")
            resumed += 1
            continue
        chunks = campaign.chunks.filter(status__in=[CampaignChunk.Status.PENDING, CampaignChunk.Status.RUNNING])
        if idle_for is not None:
            chunks = chunks.filter(updated_at__lt=timezone.now() - idle_for)
        for chunk_id in chunks.values_list("id", flat=True):
            outbox.enqueue("adhesions.tasks.render_chunk", chunk_id=chunk_id, dedupe_key=f"render_chunk:{chunk_id}")
            resumed += 1
    return resumed


def run_campaign_now(*, actor, scale: ContributionScale, progress=lambda text: None,
                     issued_on: datetime.date | None = None) -> Campaign:
    """The command line's path: the same steps as the worker, one after the other
    (``issued_on`` lets the demo world date its campaign from January)."""
    with transaction.atomic():
        campaign, created = Campaign.objects.get_or_create(scale=scale, defaults={"started_by": _user(actor)})
        if not created:
            Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.COMPUTING, finished_at=None)
        audit.record(actor=actor, action="campaign.command", target=campaign)
    chunks = compute_campaign(campaign_id=campaign.pk, issued_on=issued_on)
    progress(f"{Campaign.objects.get(pk=campaign.pk).computed_count} appels calculés, {len(chunks)} lots à éditer")
    for number, chunk_id in enumerate(chunks, start=1):
        render_chunk(chunk_id=chunk_id)
        progress(f"lot {number}/{len(chunks)} édité")
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def regularise(*, actor, adherent: Adherent, year: int, reason: str = "") -> ContributionCall:
    """Recompute what the adherent owes for the year with today's data and issue the
    difference with what was already called: a positive call or a credit."""
    scale = ContributionScale.objects.get(year=year)
    calls = list(ContributionCall.objects.select_for_update().filter(adherent=adherent, year=year).order_by("id"))
    initial = next((c for c in calls if c.kind == ContributionCall.Kind.INITIAL), None)
    if initial is None:
        raise ValidationError(_("Aucun appel %(year)s n'a encore été émis pour cet adhérent.") % {"year": year})
    computed = compute_one(scale, adherent_id=adherent.pk)
    due = computed.amount if computed else Decimal("0.00")
    difference = due - sum((c.amount for c in calls), Decimal("0.00"))
    if difference == 0:
        raise ValidationError(_("Rien à régulariser : les appels émis correspondent aux données actuelles."))
    number = sum(1 for c in calls if c.kind == ContributionCall.Kind.REGULARISATION) + 1
    call = ContributionCall.objects.create(
        adherent=adherent, year=year, kind=ContributionCall.Kind.REGULARISATION, regularises=initial,
        reference=f"R{year}-{adherent.pk:06d}-{number}", due_date=max(scale.due_date, timezone.localdate()
                                                                       + datetime.timedelta(days=30)),
        payroll=computed.payroll if computed else None, payroll_year=year - 1 if not adherent.is_cos else None,
        working_agents=computed.working if computed else 0, retired_agents=computed.retired if computed else 0,
        covered_agents=computed.covered if computed else 0, months=computed.months if computed else 0,
        bound=computed.bound if computed else "", amount=difference,
        details={"recomputed": str(due), "already_called": str(due - difference),
                 "agents_part": str(round_cents(computed.agents_part)) if computed else "0",
                 "retired_part": str(round_cents(computed.retired_part)) if computed else "0"},
    )
    audit.record(actor=actor, action="call.regularise", target=call, reason=reason,
                 changes={"dû": str(due), "déjà appelé": str(due - difference), "régularisation": str(difference)})

    outbox.enqueue("adhesions.tasks.render_single_call", call_id=call.pk, dedupe_key=f"render_call:{call.pk}")
    return call


def render_single_call(*, call_id: int) -> None:
    with transaction.atomic():
        wanted = ContributionCall.objects.filter(pk=call_id, pdf="")
        call = (wanted.select_for_update(skip_locked=True, of=("self",))
                .select_related("adherent", "regularises").first())
        if call is not None:
            render_calls([call], scale=ContributionScale.objects.filter(year=call.year).first())
        elif wanted.exists():  # another worker is rendering it: it will be there, or we try again
            raise outbox.TryLater(seconds=5)
