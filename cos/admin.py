from django.contrib import admin

from cnas.admin import AuditedModelAdmin, PrivateFileAdminMixin, TabularInline
from cos.models import (
    Convention,
    CosEmployer,
    CosMember,
    CosSettings,
    LocalAction,
    MemberFee,
    Participant,
    Registration,
)


@admin.register(CosSettings)
class CosSettingsAdmin(AuditedModelAdmin):
    list_display = ("cos", "fee_amount", "fee_deadline_day", "fee_deadline_month")
    autocomplete_fields = ("cos",)


@admin.register(CosEmployer)
class CosEmployerAdmin(AuditedModelAdmin):
    list_display = ("cos", "employer")
    search_fields = ("cos__name", "employer__name")
    autocomplete_fields = ("cos", "employer")


@admin.register(Convention)
class ConventionAdmin(PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "signed_pdf"
    list_display = ("cos", "employer", "signed_on", "start_date", "end_date", "file_link")
    search_fields = ("cos__name", "employer__name")
    readonly_fields = ("cos", "employer", "signed_on", "start_date", "file_link", "created_by")
    exclude = ("signed_pdf",)

    def has_add_permission(self, request):
        return False  # signed from the COS space, through the service that switches the coverage


class MemberFeeInline(TabularInline):
    model = MemberFee
    extra = 0
    readonly_fields = ("year", "amount", "paid_on", "means", "recorded_by")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CosMember)
class CosMemberAdmin(AuditedModelAdmin):
    list_display = ("agent", "cos", "joined_on", "left_on")
    list_filter = ("cos",)
    search_fields = ("agent__last_name", "agent__first_name", "cos__name")
    autocomplete_fields = ("agent", "cos")
    list_select_related = ("agent", "cos")
    inlines = [MemberFeeInline]
    show_full_result_count = False


@admin.register(MemberFee)
class MemberFeeAdmin(AuditedModelAdmin):
    list_display = ("member", "year", "amount", "paid_on", "means")
    list_filter = ("year", "means")
    search_fields = ("member__agent__last_name",)
    autocomplete_fields = ("member",)
    list_select_related = ("member__agent", "member__cos")


class RegistrationInline(TabularInline):
    model = Registration
    extra = 0
    fields = ("member", "status", "seats", "amount", "created_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LocalAction)
class LocalActionAdmin(AuditedModelAdmin):
    list_display = ("title", "cos", "starts_at", "place", "capacity", "is_published")
    list_filter = ("is_published", "cos")
    search_fields = ("title", "cos__name")
    autocomplete_fields = ("cos",)
    inlines = [RegistrationInline]


@admin.register(Registration)
class RegistrationAdmin(AuditedModelAdmin):
    list_display = ("action", "member", "status", "seats", "amount", "created_at")
    list_filter = ("status",)
    search_fields = ("member__agent__last_name", "action__title")
    list_select_related = ("action", "member__agent")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Participant)
class ParticipantAdmin(AuditedModelAdmin):
    list_display = ("registration", "family_member", "is_child", "attended")
    list_filter = ("attended", "is_child")

    def has_add_permission(self, request):
        return False
