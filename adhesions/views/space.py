"""The correspondent's home and his co-correspondents."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from adhesions import selectors, services
from adhesions.access import (
    CORRESPONDENT,
    require_some_adherent,
)
from adhesions.forms import (
    InviteCorrespondentForm,
)
from adhesions.models import Invitation
from adhesions.views._common import _form_errors_from, correspondent_view
from cnas.idempotency import once


@login_required
def index(request):
    adherents = require_some_adherent(request.user, role=CORRESPONDENT)
    if len(adherents) == 1:
        return redirect("collectivite:home", pk=adherents[0].pk)
    return render(request, "adhesions/index.html", {"adherents": adherents})


@correspondent_view
def home(request, adherent):
    today = timezone.localdate()
    context = {
        "adherent": adherent,
        "adhesion": adherent.current_adhesion(today),
        "last_adhesion": adherent.adhesions.first(),
        "counts": selectors.roster_counts(adherent=adherent, day=today),
        "covered": selectors.covered_count(adherent=adherent, day=today),
        "colleagues": adherent.managers.select_related("user").order_by("user__email"),
        "last_declaration": adherent.payroll_declarations.order_by("-year", "-declared_at").first(),
        "last_import": adherent.roster_imports.first(),
        "today": today,
    }
    return render(request, "adhesions/home.html", context)


@correspondent_view
@require_http_methods(["GET", "POST"])
def correspondents(request, adherent):
    form = InviteCorrespondentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            once(request, scope="invitation.correspondent",
                 create=lambda: services.invite_correspondent(actor=request.user,
                                                              adherent=adherent, email=form.cleaned_data["email"]))
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("L'invitation part à %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("collectivite:correspondents", pk=adherent.pk)
    return render(request, "adhesions/correspondents.html", {
        "adherent": adherent, "form": form,
        "managers": adherent.managers.select_related("user").order_by("user__email"),
        "pending": adherent.invitations.filter(kind=Invitation.Kind.CORRESPONDENT, accepted_at__isnull=True),
    })
