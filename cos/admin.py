from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.scope import RegionScopedAdmin
from cnas.admin import (
    AuditedModelAdmin,
    ObjectAction,
    ObjectActionsMixin,
    PrivateFileAdminMixin,
    ReadOnlyAdminMixin,
    TabularInline,
)
from cos import services
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
class CosSettingsAdmin(RegionScopedAdmin, AuditedModelAdmin):
    region_lookup = "cos__region"
    list_display = ("cos", "fee_amount", "fee_deadline_day", "fee_deadline_month")
    fields = ("cos", "fee_amount", "fee_deadline_day", "fee_deadline_month")
    readonly_fields = ("cos",)

    def has_add_permission(self, request):
        return False  # each COS has its settings from its first coverage

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        services.update_cos_settings(actor=request.user, settings_row=obj, fee_amount=data["fee_amount"],
                                     fee_deadline_month=data["fee_deadline_month"],
                                     fee_deadline_day=data["fee_deadline_day"])


def _unserve(request, link):
    services.remove_served_employer(actor=request.user, link=link)
    return _("Le COS ne sert plus cet employeur.")


@admin.register(CosEmployer)
class CosEmployerAdmin(ObjectActionsMixin, RegionScopedAdmin, AuditedModelAdmin):
    region_lookup = "cos__region"
    list_display = ("cos", "employer")
    search_fields = ("cos__name", "employer__name")
    autocomplete_fields = ("cos", "employer")
    read_only_page = True
    object_actions = (
        ObjectAction(name="retirer", label=_("Ne plus servir cet employeur"), form_class=forms.Form,
                     permission="cos.delete_cosemployer", run=_unserve,
                     help_text=_("Possible quand plus aucun membre du COS n'y travaille.")),
    )

    def get_readonly_fields(self, request, obj=None):
        return ("cos", "employer") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False  # « Ne plus servir cet employeur » checks the members first

    def save_model(self, request, obj, form, change):
        if change:
            return
        link = services.add_served_employer(actor=request.user, cos=form.cleaned_data["cos"],
                                            employer=form.cleaned_data["employer"])
        obj.pk = link.pk


@admin.register(Convention)
class ConventionAdmin(RegionScopedAdmin, PrivateFileAdminMixin, AuditedModelAdmin):
    region_lookup = "cos__region"
    private_file_field = "signed_pdf"
    private_file_type = "application/pdf"
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
class CosMemberAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "cos__region"
    list_display = ("agent", "cos", "joined_on", "left_on")
    list_filter = ("cos",)
    search_fields = ("agent__last_name", "agent__first_name", "cos__name")
    autocomplete_fields = ("agent", "cos")
    list_select_related = ("agent", "cos")
    inlines = [MemberFeeInline]
    show_full_result_count = False


@admin.register(MemberFee)
class MemberFeeAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "member__cos__region"
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
class LocalActionAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "cos__region"
    list_display = ("title", "cos", "starts_at", "place", "capacity", "is_published")
    list_filter = ("is_published", "cos")
    search_fields = ("title", "cos__name")
    autocomplete_fields = ("cos",)
    inlines = [RegistrationInline]


@admin.register(Registration)
class RegistrationAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "action__cos__region"
    list_display = ("action", "member", "status", "seats", "amount", "created_at")
    list_filter = ("status",)
    search_fields = ("member__agent__last_name", "action__title")
    list_select_related = ("action", "member__agent")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Participant)
class ParticipantAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "registration__action__cos__region"
    list_display = ("registration", "family_member", "is_child", "attended")
    list_filter = ("attended", "is_child")

    def has_add_permission(self, request):
        return False
