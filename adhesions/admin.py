from django import forms as django_forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from adhesions import services
from adhesions.models import (
    Adherent,
    Adhesion,
    BankStatement,
    Campaign,
    CampaignChunk,
    ContributionCall,
    ContributionScale,
    Coverage,
    Employment,
    Invitation,
    Manager,
    MembershipApplication,
    Payment,
    PayrollDeclaration,
    Region,
    Reminder,
    RosterImport,
)
from adhesions.statements import StatementError, read_statement
from cnas.admin import AuditedModelAdmin, PrivateFileAdminMixin


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class AdhesionInline(admin.TabularInline):
    model = Adhesion
    extra = 0


class ManagerInline(admin.TabularInline):
    model = Manager
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Adherent)
class AdherentAdmin(AuditedModelAdmin):
    list_display = ("name", "kind", "category", "siret", "city", "region")
    list_filter = ("kind", "category", "region")
    search_fields = ("name", "siret", "city", "postcode")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)
    inlines = [AdhesionInline, ManagerInline]
    fieldsets = (
        (None, {"fields": ("name", "kind", "category", "siret", "region")}),
        (_("Coordonnées"), {"fields": ("address", "postcode", "city", "email", "phone")}),
    )


@admin.register(Adhesion)
class AdhesionAdmin(AuditedModelAdmin):
    list_display = ("adherent", "start_date", "end_date", "status", "covers_retired")
    list_filter = ("status", "covers_retired", "adherent__kind", "adherent__region")
    search_fields = ("adherent__name", "adherent__siret")
    autocomplete_fields = ("adherent",)
    list_select_related = ("adherent",)
    date_hierarchy = "start_date"


@admin.register(Employment)
class EmploymentAdmin(AuditedModelAdmin):
    list_display = ("employee_number", "agent", "employer", "start_date", "end_date", "end_reason")
    list_filter = ("end_reason", "employer__kind", "employer__region")
    search_fields = ("employee_number", "agent__last_name", "agent__first_name", "employer__name",
                     "employer__siret")
    autocomplete_fields = ("agent", "employer")
    list_select_related = ("agent", "employer")
    show_full_result_count = False


@admin.register(Coverage)
class CoverageAdmin(AuditedModelAdmin):
    list_display = ("agent", "adherent", "period", "source")
    list_filter = ("source", "adherent__kind", "adherent__region")
    search_fields = ("agent__last_name", "agent__first_name", "adherent__name", "adherent__siret")
    autocomplete_fields = ("agent", "adherent")
    list_select_related = ("agent", "adherent")
    show_full_result_count = False


@admin.register(Manager)
class ManagerAdmin(AuditedModelAdmin):
    list_display = ("user", "adherent", "role", "created_at")
    list_filter = ("role", "adherent__kind")
    search_fields = ("user__email", "adherent__name", "adherent__siret")
    autocomplete_fields = ("user", "adherent")
    list_select_related = ("user", "adherent")


@admin.register(RosterImport)
class RosterImportAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "file"
    list_display = ("original_name", "adherent", "created_at", "uploaded_by", "status", "created_count",
                    "updated_count", "closed_count", "error_count")
    list_filter = ("status", "is_complete", ("created_at", admin.DateFieldListFilter))
    search_fields = ("original_name", "adherent__name", "adherent__siret", "sha256")
    autocomplete_fields = ("adherent",)
    list_select_related = ("adherent", "uploaded_by")
    readonly_fields = [f.name for f in RosterImport._meta.fields if f.name not in ("id", "file")] + ["file_link"]
    exclude = ("file",)

    def has_add_permission(self, request):
        return False  # imports are made from the collectivity space or import_roster

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(AuditedModelAdmin):
    list_display = ("email", "kind", "adherent", "created_at", "sent_at", "accepted_at")
    list_filter = ("kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("email", "adherent__name", "adherent__siret")
    autocomplete_fields = ("adherent", "agent", "invited_by", "accepted_by")
    list_select_related = ("adherent",)
    readonly_fields = ("created_at", "sent_at", "accepted_at", "accepted_by")

    def has_change_permission(self, request, obj=None):
        return False


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
class PayrollDeclarationAdmin(AuditedModelAdmin):
    """Declarations are never edited: staff correct one by adding a new declaration for the
    same adherent and year, with a reason; the history keeps both."""

    list_display = ("adherent", "year", "gross_payroll", "working_headcount", "retired_headcount", "declared_at",
                    "declared_by", "is_correction", "correct_link")
    list_filter = ("year", "is_correction", "adherent__kind", "adherent__region")
    search_fields = ("adherent__name", "adherent__siret")
    autocomplete_fields = ("adherent",)
    list_select_related = ("adherent", "declared_by")
    form = PayrollCorrectionForm

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


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "deliberation"
    list_display = ("name", "siret", "kind", "city", "contact_email", "created_at", "status", "region")
    list_filter = ("status", "kind", "region")
    search_fields = ("name", "siret", "contact_email", "city")
    autocomplete_fields = ("region",)
    readonly_fields = ("file_link", "status", "created_at", "decided_at", "decided_by", "adherent")
    exclude = ("deliberation",)
    actions = ["approve", "reject"]

    def has_add_permission(self, request):
        return False  # applications come from the public form

    @admin.action(description=_("Approuver : créer l'adhérent, l'adhésion et inviter le contact"))
    def approve(self, request, queryset):
        for application in queryset:
            try:
                adherent = services.approve_application(actor=request.user, application=application)
            except ValidationError as exc:
                self.message_user(request, f"{application} : {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, _("%(name)s est adhérent ; l'invitation part à %(email)s.") % {
                    "name": adherent.name, "email": application.contact_email}, messages.SUCCESS)

    @admin.action(description=_("Refuser (le motif saisi dans la demande est envoyé)"))
    def reject(self, request, queryset):
        for application in queryset:
            try:
                services.reject_application(actor=request.user, application=application,
                                            reason=application.decision_reason)
            except ValidationError as exc:
                self.message_user(request, f"{application} : {' '.join(exc.messages)}", messages.ERROR)
            else:
                self.message_user(request, _("Demande de %(name)s refusée.") % {"name": application.name})


# --- Contributions ----------------------------------------------------------------------------

@admin.register(ContributionScale)
class ContributionScaleAdmin(AuditedModelAdmin):
    list_display = ("year", "employer_mode", "payroll_rate", "floor_per_agent", "ceiling_per_agent",
                    "flat_per_agent", "cos_per_agent", "retired_flat", "due_date", "grace_days", "campaign_link")
    actions = ["start"]
    fieldsets = (
        (None, {"fields": ("year", "due_date", "grace_days")}),
        (_("Employeurs"), {"fields": ("employer_mode", "payroll_rate", "floor_per_agent", "ceiling_per_agent",
                                      "flat_per_agent", "retired_flat")}),
        (_("COS"), {"fields": ("cos_per_agent",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        # once its campaign has started, a scale is what the issued calls were computed from
        if obj is not None and Campaign.objects.filter(scale=obj).exists():
            return [f.name for f in ContributionScale._meta.fields]
        return []

    @admin.display(description=_("campagne"))
    def campaign_link(self, obj):
        campaign = Campaign.objects.filter(scale=obj).first()
        if campaign is None:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:adhesions_campaign_change", args=[campaign.pk]),
                           campaign.get_status_display())

    @admin.action(description=_("Lancer (ou reprendre) la campagne de cotisation"))
    def start(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choisissez un seul barème."), messages.ERROR)
            return None
        campaign = services.start_campaign(actor=request.user, scale=queryset.get())
        return redirect("admin:adhesions_campaign_change", campaign.pk)


class CampaignChunkInline(admin.TabularInline):
    model = CampaignChunk
    extra = 0
    can_delete = False
    fields = ("index", "first_call_id", "last_call_id", "status", "attempts", "error", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(AuditedModelAdmin):
    list_display = ("__str__", "status", "computed_count", "started_by", "started_at", "finished_at")
    readonly_fields = ("scale", "status", "started_by", "started_at", "computed_at", "finished_at", "computed_count")
    inlines = [CampaignChunkInline]
    change_form_template = "admin/adhesions/campaign/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/progression/", self.admin_site.admin_view(self.progress),
                 name="adhesions_campaign_progress"),
            path("<int:pk>/relancer/", self.admin_site.admin_view(self.retry), name="adhesions_campaign_retry"),
            *super().get_urls(),
        ]

    @staticmethod
    def figures(campaign: Campaign) -> dict:
        calls = ContributionCall.objects.filter(campaign=campaign)
        rendered = calls.exclude(pdf="").count()
        chunks = dict(campaign.chunks.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
        total = campaign.computed_count
        return {"status": campaign.status, "label": str(campaign.get_status_display()), "computed": total,
                "rendered": rendered, "failed_chunks": chunks.get(CampaignChunk.Status.FAILED, 0),
                "running": campaign.status in (Campaign.Status.COMPUTING, Campaign.Status.RENDERING),
                "progress": int(100 * rendered / total) if total else (0 if campaign.status == "computing" else 100)}

    def progress(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return JsonResponse(self.figures(campaign))

    def retry(self, request, pk):
        campaign = get_object_or_404(Campaign, pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        count = services.retry_failed_chunks(actor=request.user, campaign=campaign)
        self.message_user(request, _("%(count)s lot(s) relancé(s).") % {"count": count})
        return redirect("admin:adhesions_campaign_change", campaign.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "figures": self.figures(campaign) if campaign else None}
        return super().change_view(request, object_id, form_url, extra_context)


class PaymentInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("paid_on", "amount", "means", "bank_reference", "recorded_by", "recorded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ContributionCall)
class ContributionCallAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "pdf"
    list_display = ("reference", "adherent", "year", "kind", "amount", "paid_display", "balance_display",
                    "due_date", "file_link")
    list_filter = ("year", "kind", "adherent__kind", "adherent__region", "bound")
    search_fields = ("reference", "adherent__name", "adherent__siret")
    list_select_related = ("adherent",)
    readonly_fields = [f.name for f in ContributionCall._meta.fields if f.name not in ("id", "pdf")] + ["file_link"]
    exclude = ("pdf",)
    inlines = [PaymentInline]
    actions = ["regularise"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).with_balance()

    @admin.display(description=_("payé"), ordering="paid")
    def paid_display(self, obj):
        return obj.paid

    @admin.display(description=_("solde"), ordering="balance")
    def balance_display(self, obj):
        return obj.balance

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Émettre une régularisation d'après les données actuelles"))
    def regularise(self, request, queryset):
        for call in queryset.filter(kind=ContributionCall.Kind.INITIAL).select_related("adherent"):
            try:
                new = services.regularise(actor=request.user, adherent=call.adherent, year=call.year,
                                          reason="Régularisation depuis l'administration")
            except ValidationError as exc:
                self.message_user(request, f"{call.reference} : {' '.join(exc.messages)}", messages.WARNING)
            else:
                self.message_user(request, _("%(ref)s émis : %(amount)s €.") % {"ref": new.reference,
                                                                                 "amount": new.amount})


class PaymentForm(django_forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["call", "amount", "paid_on", "means", "bank_reference"]


@admin.register(Payment)
class PaymentAdmin(AuditedModelAdmin):
    """Payments are added, never edited: a correction is a negative payment."""

    form = PaymentForm
    list_display = ("call", "amount", "paid_on", "means", "bank_reference", "recorded_by", "recorded_at")
    list_filter = ("means", ("paid_on", admin.DateFieldListFilter))
    search_fields = ("call__reference", "call__adherent__name", "bank_reference")
    autocomplete_fields = ("call",)
    list_select_related = ("call", "recorded_by")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        payment = services.record_payment(actor=request.user, call=data["call"], amount=data["amount"],
                                          paid_on=data["paid_on"], means=data["means"],
                                          bank_reference=data["bank_reference"])
        obj.pk = payment.pk


class BankStatementForm(django_forms.ModelForm):
    class Meta:
        model = BankStatement
        fields = ["file"]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            read_statement(uploaded.read(), uploaded.name)
        except StatementError as exc:
            raise django_forms.ValidationError(str(exc)) from exc
        finally:
            uploaded.seek(0)
        return uploaded


@admin.register(BankStatement)
class BankStatementAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "file"
    form = BankStatementForm
    list_display = ("original_name", "format", "uploaded_at", "uploaded_by", "line_count", "matched_count",
                    "already_count", "unmatched_count")
    readonly_fields = ("original_name", "format", "uploaded_by", "uploaded_at", "line_count", "matched_count",
                       "already_count", "unmatched_table", "file_link")

    def get_fields(self, request, obj=None):
        return ["file"] if obj is None else list(self.readonly_fields)

    @admin.display(description=_("non rapprochées"))
    def unmatched_count(self, obj):
        return len(obj.unmatched)

    @admin.display(description=_("lignes à traiter par l'équipe"))
    def unmatched_table(self, obj):
        if not obj.unmatched:
            return "—"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((u["date"], u["amount"], u["text"], u["reason"]) for u in obj.unmatched))
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                           "<tbody>{}</tbody></table>", _("date"), _("montant"), _("libellé"), _("motif"), rows)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        statement = services.import_statement(actor=request.user, uploaded=form.cleaned_data["file"])
        obj.pk, obj.original_name = statement.pk, statement.original_name
        self.message_user(request, _("%(matched)s paiement(s) rapproché(s), %(left)s ligne(s) à traiter, "
                                     "%(already)s déjà enregistrée(s).") % {
            "matched": statement.matched_count, "left": len(statement.unmatched), "already": statement.already_count})


@admin.register(Reminder)
class ReminderAdmin(AuditedModelAdmin):
    list_display = ("call", "level", "balance", "sent_at")
    list_filter = ("level",)
    search_fields = ("call__reference", "call__adherent__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CampaignChunk)
class CampaignChunkAdmin(AuditedModelAdmin):
    list_display = ("campaign", "index", "first_call_id", "last_call_id", "status", "attempts", "updated_at")
    list_filter = ("status", "campaign")
    search_fields = ("error",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
