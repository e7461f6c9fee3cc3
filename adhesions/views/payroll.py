"""The yearly payroll declarations."""


from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from adhesions import selectors, services
from adhesions.forms import (
    PayrollDeclarationForm,
)
from adhesions.models import PayrollDeclaration
from adhesions.views._common import _form_errors_from, correspondent_view
from cnas.idempotency import once


@correspondent_view
@require_http_methods(["GET", "POST"])
def payroll(request, adherent):
    today = timezone.localdate()
    counts = selectors.roster_counts(adherent=adherent, day=today.replace(month=12, day=31, year=today.year - 1))
    initial = {"year": today.year - 1, "working_headcount": counts["working"], "retired_headcount": counts["retired"]}
    form = PayrollDeclarationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            once(request, scope="payroll.declare",
                 create=lambda: services.declare_payroll(actor=request.user, adherent=adherent, **form.cleaned_data))
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Votre déclaration %(year)s est enregistrée.") % {
                "year": form.cleaned_data["year"]})
            return redirect("collectivite:payroll", pk=adherent.pk)
    declarations = (PayrollDeclaration.objects.filter(adherent=adherent).select_related("declared_by")
                    .order_by("-year", "-declared_at"))
    current_ids = set(PayrollDeclaration.objects.filter(adherent=adherent).current().values_list("id", flat=True))
    return render(request, "adhesions/payroll.html", {
        "adherent": adherent, "form": form, "declarations": declarations, "current_ids": current_ids,
    })
