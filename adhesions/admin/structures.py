"""Admin of regional delegations, adherents, adhesions, managers and joining applications."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from adhesions import services
from adhesions.models import (
    Adherent,
    Adhesion,
    Manager,
    MembershipApplication,
    Region,
)
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


@admin.register(Manager)
class ManagerAdmin(AuditedModelAdmin):
    list_display = ("user", "adherent", "role", "created_at")
    list_filter = ("role", "adherent__kind")
    search_fields = ("user__email", "adherent__name", "adherent__siret")
    autocomplete_fields = ("user", "adherent")
    list_select_related = ("user", "adherent")


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
