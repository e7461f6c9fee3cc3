from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Agent, FamilyMember, StaffProfile, TaxDeclaration, User
from cnas.admin import AuditedModelAdmin, PrivateFileAdminMixin, StackedInline, TabularInline


class StaffProfileInline(StackedInline):
    model = StaffProfile
    extra = 0
    autocomplete_fields = ("region",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin, AuditedModelAdmin):
    ordering = ("email",)
    list_display = ("email", "last_name", "first_name", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("email", "last_name", "first_name")
    readonly_fields = ("date_joined", "last_login")
    inlines = [StaffProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Identité"), {"fields": ("first_name", "last_name")}),
        (_("Droits"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class FamilyMemberInline(TabularInline):
    model = FamilyMember
    extra = 0


@admin.register(Agent)
class AgentAdmin(AuditedModelAdmin):
    list_display = ("last_name", "first_name", "birth_date", "status", "email", "user")
    list_filter = ("status", "sex")
    search_fields = ("last_name", "first_name", "email", "employments__employee_number")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "updated_at")
    inlines = [FamilyMemberInline]
    show_full_result_count = False
    fieldsets = (
        (_("Identité"), {"fields": ("last_name", "birth_name", "first_name", "sex", "birth_date", "status")}),
        (_("Coordonnées"), {"fields": ("email", "phone", "address", "postcode", "city")}),
        (_("Banque"), {"fields": ("iban", "bic")}),
        (_("Compte"), {"fields": ("user", "created_at", "updated_at")}),
    )


@admin.register(FamilyMember)
class FamilyMemberAdmin(AuditedModelAdmin):
    list_display = ("last_name", "first_name", "relation", "birth_date", "agent")
    list_filter = ("relation", "is_dependent")
    search_fields = ("last_name", "first_name", "agent__last_name")
    autocomplete_fields = ("agent",)
    list_select_related = ("agent",)
    show_full_result_count = False


@admin.register(StaffProfile)
class StaffProfileAdmin(AuditedModelAdmin):
    list_display = ("user", "region", "job_title")
    list_filter = ("region",)
    search_fields = ("user__email", "user__last_name")
    autocomplete_fields = ("user", "region")
    list_select_related = ("user", "region")


@admin.register(TaxDeclaration)
class TaxDeclarationAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "notice"
    exclude = ("notice",)
    readonly_fields = ("file_link", "declared_at")
    list_display = ("agent", "year", "reference_income", "shares", "declared_at")
    list_filter = ("year",)
    search_fields = ("agent__last_name", "agent__first_name")
    autocomplete_fields = ("agent",)
    list_select_related = ("agent",)
