"""Admin of the roster, coverage, imports, invitations and payroll declarations."""

import datetime

from django import forms as django_forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.scope import RegionScopedAdmin
from adhesions import services
from adhesions.models import (
    BasisPeriod,
    Coverage,
    Employment,
    Invitation,
    PayrollDeclaration,
    RosterImport,
)
from cnas.admin import (
    AuditedModelAdmin,
    ObjectAction,
    ObjectActionsMixin,
    PrivateFileAdminMixin,
    ReadOnlyAdminMixin,
)
from cnas.forms import DateField


class CorrectEmploymentForm(django_forms.Form):
    employee_number = django_forms.CharField(label=_("Matricule"), max_length=32)
    start_date = DateField(label=_("Date d'entrée"), widget=AdminDateWidget())
    reason = django_forms.CharField(label=_("Motif de la correction"), widget=django_forms.Textarea(attrs={"rows": 2}))


class EndEmploymentForm(django_forms.Form):
    end_date = DateField(label=_("Date de sortie (dernier jour)"), widget=AdminDateWidget())
    end_reason = django_forms.ChoiceField(label=_("Motif de sortie"), choices=[
        c for c in Employment.EndReason.choices if c[0] != Employment.EndReason.OTHER])
    comment = django_forms.CharField(label=_("Commentaire"), required=False,
                                     widget=django_forms.Textarea(attrs={"rows": 2}))


def _correct(request, employment, employee_number, start_date, reason):
    services.update_roster_entry(actor=request.user, employment=employment, employee_number=employee_number,
                                 start_date=start_date, reason=reason)
    return _("Effectif corrigé : la couverture de l'agent est recalculée.")


def _end(request, employment, end_date, end_reason, comment):
    services.end_employment(actor=request.user, employment=employment, end_date=end_date, reason=end_reason,
                            comment=comment)
    return _("Sortie enregistrée : la couverture de l'agent est recalculée.")


@admin.register(Employment)
class EmploymentAdmin(ObjectActionsMixin, RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """The roster is kept by the employers (collectivity space, imports); staff correct a line
    through the same services, so that coverage and the contribution's basis follow."""

    region_lookup = "employer__region"
    read_only_page = True
    list_display = ("employee_number", "agent", "employer", "start_date", "end_date", "end_reason")
    list_filter = ("end_reason", "employer__kind", "employer__region")
    search_fields = ("employee_number", "agent__last_name", "agent__first_name", "employer__name",
                     "employer__siret")
    list_select_related = ("agent", "employer")
    show_full_result_count = False
    object_actions = (
        ObjectAction(name="corriger", label=_("Corriger"), form_class=CorrectEmploymentForm,
                     permission="adhesions.correct_employment", run=_correct,
                     initial=lambda e: {"employee_number": e.employee_number, "start_date": e.start_date}),
        ObjectAction(name="sortie", label=_("Enregistrer une sortie"), form_class=EndEmploymentForm,
                     permission="adhesions.correct_employment", run=_end,
                     is_available=lambda e: e.end_date is None),
    )


def french_period(period) -> str:
    """[2019-01-01, None) -> « depuis le 01/01/2019 »; with an end, « du … au … » (last day)."""
    if period is None or period.lower is None:
        return "—"
    if period.upper is None:
        return _("depuis le %(start)s") % {"start": period.lower.strftime("%d/%m/%Y")}
    last = period.upper - datetime.timedelta(days=1)
    return _("du %(start)s au %(end)s") % {"start": period.lower.strftime("%d/%m/%Y"), "end": last.strftime("%d/%m/%Y")}


class DerivedPeriodAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """Rows derived by the services from the roster, the adhesions and the COS's members: read
    here, never edited (a change of the data they come from recomputes them)."""

    list_display = ("agent", "adherent", "period_display", "source")
    list_filter = ("source", "adherent__kind", "adherent__region")
    search_fields = ("agent__last_name", "agent__first_name", "adherent__name", "adherent__siret")
    list_select_related = ("agent", "adherent")
    show_full_result_count = False
    fields = ("agent", "adherent", "period_display", "source")
    readonly_fields = fields

    region_lookup = "adherent__region"

    @admin.display(description=_("période"), ordering="period")
    def period_display(self, obj):
        return french_period(obj.period)


@admin.register(Coverage)
class CoverageAdmin(DerivedPeriodAdmin):
    pass


@admin.register(BasisPeriod)
class BasisPeriodAdmin(DerivedPeriodAdmin):
    pass


@admin.register(RosterImport)
class RosterImportAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, PrivateFileAdminMixin, AuditedModelAdmin):
    region_lookup = "adherent__region"
    private_file_field = "file"
    list_display = ("original_name", "adherent", "created_at", "uploaded_by", "status", "created_count",
                    "updated_count", "closed_count", "error_count")
    list_filter = ("status", "is_complete", ("created_at", admin.DateFieldListFilter))
    search_fields = ("original_name", "adherent__name", "adherent__siret", "sha256")
    list_select_related = ("adherent", "uploaded_by")
    readonly_fields = [f.name for f in RosterImport._meta.fields if f.name not in ("id", "file")] + ["file_link"]
    exclude = ("file",)  # imports are made from the collectivity space or import_roster


@admin.register(Invitation)
class InvitationAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "adherent__region"
    list_display = ("email", "kind", "adherent", "created_at", "sent_at", "accepted_at")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("email", "adherent__name", "adherent__siret")
    list_select_related = ("adherent",)


class PayrollCorrectionForm(django_forms.ModelForm):
    class Meta:
        model = PayrollDeclaration
        fields = ["adherent", "year", "gross_payroll", "working_headcount", "retired_headcount", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reason" in self.fields:  # absent when an existing declaration is only viewed
            self.fields["reason"].required = True
            self.fields["reason"].help_text = _("Obligatoire : la correction et son motif sont conservés.")


@admin.register(PayrollDeclaration)
class PayrollDeclarationAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """Declarations are never edited: staff correct one by adding a new declaration for the
    same adherent and year, with a reason; the history keeps both."""

    list_display = ("adherent", "year", "gross_payroll", "working_headcount", "retired_headcount", "declared_at",
                    "declared_by", "is_correction", "correct_link")
    list_filter = ("year", "is_correction", "adherent__kind", "adherent__region")
    search_fields = ("adherent__name", "adherent__siret")
    autocomplete_fields = ("adherent",)
    list_select_related = ("adherent", "declared_by")
    form = PayrollCorrectionForm
    region_lookup = "adherent__region"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("corriger"))
    def correct_link(self, obj):
        url = reverse("admin:adhesions_payrolldeclaration_add")
        return format_html('<a href="{}?adherent={}&year={}&gross_payroll={}&working_headcount={}'
                           '&retired_headcount={}">{}</a>', url, obj.adherent_id, obj.year, obj.gross_payroll,
                           obj.working_headcount, obj.retired_headcount, _("Corriger"))

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            declaration = services.declare_payroll(
                actor=request.user, adherent=data["adherent"], year=data["year"], gross_payroll=data["gross_payroll"],
                working_headcount=data["working_headcount"], retired_headcount=data["retired_headcount"],
                reason=data["reason"], is_correction=True)
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = declaration.pk
