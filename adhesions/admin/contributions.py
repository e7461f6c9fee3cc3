"""Admin of scales, campaigns and contribution calls."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.scope import RegionScopedAdmin
from adhesions import services
from adhesions.admin.payments import PaymentInline
from adhesions.models import (
    Campaign,
    CampaignChunk,
    ContributionCall,
    ContributionScale,
)
from cnas.admin import AuditedModelAdmin, PrivateFileAdminMixin, TabularInline


@admin.register(ContributionScale)
class ContributionScaleAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "le barème national"
    list_display = ("year", "employer_mode", "payroll_rate", "floor_per_agent", "ceiling_per_agent",
                    "flat_per_agent", "cos_per_agent", "retired_flat", "due_date", "grace_days", "campaign_link")
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
            return format_html('<a href="{}">{}</a>', reverse("admin:adhesions_contributionscale_campaign",
                                                              args=[obj.pk]), _("Préparer la campagne"))
        return format_html('<a href="{}">{}</a>', reverse("admin:adhesions_campaign_change", args=[campaign.pk]),
                           campaign.get_status_display())

    def get_urls(self):
        return [path("<int:pk>/campagne/", self.admin_site.admin_view(self.campaign_view),
                     name="adhesions_contributionscale_campaign"), *super().get_urls()]

    def campaign_view(self, request, pk):
        """The confirmation page: the year, the scale, the totals by kind of adherent, the employers
        with no payroll declared (and a button to remind them), who may launch; then launch."""
        scale = get_object_or_404(ContributionScale, pk=pk)
        if not self.has_view_permission(request, scale):
            raise PermissionDenied
        may_run = request.user.has_perm("adhesions.run_campaign")
        if request.method == "POST":
            if not may_run:
                raise PermissionDenied
            try:
                if request.POST.get("action") == "remind":
                    count = services.remind_missing_payroll(actor=request.user, scale=scale)
                    self.message_user(request, ngettext(
                        "%(n)s adhérent relancé pour sa masse salariale.",
                        "%(n)s adhérents relancés pour leur masse salariale.", count) % {"n": count}, messages.SUCCESS)
                    return redirect("admin:adhesions_contributionscale_campaign", scale.pk)
                if request.POST.get("confirm") != "on":
                    raise ValidationError(_("Cochez la case de confirmation pour lancer la campagne."))
                campaign = services.start_campaign(actor=request.user, scale=scale)
            except ValidationError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
                return redirect("admin:adhesions_contributionscale_campaign", scale.pk)
            self.message_user(request, _("Campagne %(year)s lancée : le worker calcule les appels.") % {
                "year": scale.year}, messages.SUCCESS)
            return redirect("admin:adhesions_campaign_change", campaign.pk)
        try:
            services.check_campaign_year(scale)
            too_early = ""
        except ValidationError as exc:
            too_early = " ".join(exc.messages)
        from django.contrib.auth.models import Group

        launchers = list(Group.objects.filter(permissions__codename="run_campaign",
                                              permissions__content_type__app_label="adhesions")
                         .values_list("name", flat=True).order_by("name"))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "scale": scale,
                   "title": _("Campagne de cotisation %(year)s") % {"year": scale.year},
                   "preview": services.preview_campaign(scale=scale), "may_run": may_run, "too_early": too_early,
                   "campaign": Campaign.objects.filter(scale=scale).first(), "launchers": launchers}
        return TemplateResponse(request, "admin/adhesions/contributionscale/campaign.html", context)


class CampaignChunkInline(TabularInline):
    model = CampaignChunk
    extra = 0
    can_delete = False
    fields = ("index", "first_call_id", "last_call_id", "status", "attempts", "error", "updated_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "la campagne nationale (chiffres agrégés)"
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
        if request.method != "POST" or not request.user.has_perm("adhesions.run_campaign"):
            raise PermissionDenied
        count = services.retry_failed_chunks(actor=request.user, campaign=campaign)
        self.message_user(request, _("%(count)s lot(s) relancé(s).") % {"count": count})
        return redirect("admin:adhesions_campaign_change", campaign.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        extra_context = {**(extra_context or {}), "figures": self.figures(campaign) if campaign else None}
        return super().change_view(request, object_id, form_url, extra_context)


class BoundFilter(admin.SimpleListFilter):
    title = _("borne appliquée")
    parameter_name = "borne"

    def lookups(self, request, model_admin):
        return [("plancher", _("plancher")), ("plafond", _("plafond")), ("aucune", _("aucune"))]

    def queryset(self, request, queryset):
        if self.value() in ("plancher", "plafond"):
            return queryset.filter(bound=self.value())
        if self.value() == "aucune":
            return queryset.filter(bound="")
        return queryset


@admin.register(ContributionCall)
class ContributionCallAdmin(RegionScopedAdmin, PrivateFileAdminMixin, AuditedModelAdmin):
    region_lookup = "adherent__region"
    private_file_field = "pdf"
    private_file_type = "application/pdf"
    list_display = ("reference", "adherent", "year", "kind", "amount", "paid_display", "balance_display",
                    "due_date", "file_link")
    list_filter = ("year", "kind", "adherent__kind", "adherent__region", BoundFilter)
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

    def has_regularise_permission(self, request):
        return request.user.has_perm("adhesions.regularise_contributioncall")

    @admin.action(description=_("Émettre une régularisation d'après les données actuelles"),
                  permissions=["regularise"])
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


@admin.register(CampaignChunk)
class CampaignChunkAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "les lots techniques d'édition de la campagne"
    list_display = ("campaign", "index", "first_call_id", "last_call_id", "status", "attempts", "updated_at")
    list_filter = ("status", "campaign")
    search_fields = ("error",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
