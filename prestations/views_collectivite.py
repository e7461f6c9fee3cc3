"""The employer's attestation queue, in the collectivity space."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from adhesions.access import CORRESPONDENT, get_managed_adherent_or_404
from prestations import services
from prestations.models import Demande


def _awaiting(adherent):
    """Requests of agents on this employer's roster that wait for its attestation."""
    return (Demande.objects.filter(status=Demande.Status.AWAITING_ATTESTATION,
                                   agent__employments__employer=adherent,
                                   agent__employments__end_date__isnull=True)
            .select_related("agent", "prestation").distinct().order_by("submitted_at"))


@login_required
@require_GET
def attestations(request, pk: int):
    adherent = get_managed_adherent_or_404(request.user, pk, role=CORRESPONDENT)
    return render(request, "prestations/attestations.html", {"adherent": adherent, "demandes": _awaiting(adherent)})


@login_required
@require_POST
def attestation_decide(request, pk: int, demande: int):
    adherent = get_managed_adherent_or_404(request.user, pk, role=CORRESPONDENT)
    record = get_object_or_404(_awaiting(adherent), pk=demande)
    try:
        if request.POST.get("decision") == "attest":
            services.attest(actor=request.user, demande=record)
            messages.success(request, _("Emploi attesté : la demande part en instruction."))
        else:
            services.decline_attestation(actor=request.user, demande=record, reason=request.POST.get("reason", ""))
            messages.info(request, _("Vous avez refusé d'attester cette demande."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("collectivite:attestations", pk=adherent.pk)
