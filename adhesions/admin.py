from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from adhesions.models import Adherent, Adhesion, Coverage, Employment, Manager, Region
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
