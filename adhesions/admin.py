from django import forms as django_forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from adhesions import services
from adhesions.models import (
    Adherent,
    Adhesion,
    Coverage,
    Employment,
    Invitation,
    Manager,
    MembershipApplication,
    PayrollDeclaration,
    Region,
    RosterImport,
)
from cnas import private_files
from cnas.admin import AuditedModelAdmin


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


class PrivateFileAdminMixin:
    """A download link for a private file, served after the admin's permission check."""

    private_file_field = ""

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("<int:pk>/fichier/", self.admin_site.admin_view(self.download), name="{}_{}_file".format(*info)),
                *super().get_urls()]

    def download(self, request, pk):
        obj = get_object_or_404(self.model, pk=pk)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return private_files.serve(getattr(obj, self.private_file_field))

    @admin.display(description=_("fichier"))
    def file_link(self, obj):
        if not obj.pk or not getattr(obj, self.private_file_field):
            return "—"
        info = self.model._meta.app_label, self.model._meta.model_name
        return format_html('<a href="{}">{}</a>', reverse("admin:{}_{}_file".format(*info), args=[obj.pk]),
                           _("Télécharger"))


@admin.register(RosterImport)
class RosterImportAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "file"
    list_display = ("original_name", "adherent", "created_at", "uploaded_by", "status", "created_count",
                    "updated_count", "closed_count", "error_count")
    list_filter = ("status", "is_complete", ("created_at", admin.DateFieldListFilter))
    search_fields = ("original_name", "adherent__name", "adherent__siret", "sha256")
    autocomplete_fields = ("adherent",)
    list_select_related = ("adherent", "uploaded_by")
    readonly_fields = [f.name for f in RosterImport._meta.fields if f.name != "id"] + ["file_link"]
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
