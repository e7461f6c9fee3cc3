import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import DurationField, ExpressionWrapper, F, Value
from django.db.models.functions import Now
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.scope import RegionScopedAdmin, staff_scope
from cnas import private_files
from cnas.admin import AuditedModelAdmin, ReadOnlyAdminMixin, TabularInline
from cnas.forms import MoneyField
from prestations import services
from prestations.models import (
    Bracket,
    Demande,
    DemandeDocument,
    DemandeEvent,
    DocumentKind,
    PaymentBatch,
    Prestation,
)


@admin.register(DocumentKind)
class DocumentKindAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "le catalogue national"
    list_display = ("label", "code", "help_text")
    search_fields = ("label", "code")
    prepopulated_fields = {"code": ("label",)}


class BracketInline(TabularInline):
    model = Bracket
    extra = 1


@admin.register(Prestation)
class PrestationAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "le catalogue national"
    list_display = ("name", "code", "category", "event", "amount_rule", "fixed_amount", "for_working", "for_retired",
                    "employer_attestation", "is_active", "valid_until")
    list_filter = ("category", "event", "amount_rule", "is_active", "employer_attestation")
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}
    filter_horizontal = ("required_documents",)
    inlines = [BracketInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "category", "description", "conditions", "is_active",
                           ("valid_from", "valid_until"))}),
        (_("Qui peut la demander"), {"fields": ("for_working", "for_retired", "min_service_months",
                                                "employer_attestation")}),
        (_("Événement"), {"fields": ("event", ("time_limit", "time_limit_unit"), "once_per_event",
                                     ("child_min_age", "child_max_age"))}),
        (_("Montant"), {"fields": ("amount_rule", "fixed_amount", ("share_percent", "share_ceiling"),
                                   "yearly_ceiling")}),
        (_("Instruction"), {"fields": ("required_documents", "instruction_limit_days")}),
    )


class LateFilter(admin.SimpleListFilter):
    title = _("délai")
    parameter_name = "late"

    def lookups(self, request, model_admin):
        return [("yes", _("au-delà du délai d'instruction"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=Demande.OPEN, waited__gt=ExpressionWrapper(
                F("prestation__instruction_limit_days") * Value(datetime.timedelta(days=1)),
                output_field=DurationField()))
        return queryset


class DocumentInline(TabularInline):
    model = DemandeDocument
    extra = 0
    can_delete = False
    fields = ("kind", "label", "original_name", "content_type", "size", "uploaded_at", "view")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("voir"))
    def view(self, obj):
        if obj.pk is None:  # a row a hand-made POST added: nothing to open
            return "—"
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>',
                           reverse("admin:prestations_demande_document", args=[obj.demande_id, obj.pk]),
                           _("Ouvrir"))


@admin.register(Demande)
class DemandeAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """The instruction queue: the requests of the staff member's region, oldest first."""

    region_lookup = "region"
    list_display = ("id", "prestation", "agent", "status", "submitted_at", "days_waited", "assigned_to", "region",
                    "amount_computed", "amount_granted")
    list_filter = ("status", LateFilter, "prestation", "region", ("assigned_to", admin.RelatedOnlyFieldListFilter))
    search_fields = ("agent__last_name", "agent__first_name", "prestation__name", "=id")
    list_select_related = ("prestation", "agent", "assigned_to", "region")
    ordering = ("submitted_at",)
    readonly_fields = [f.name for f in Demande._meta.fields if f.name not in ("id", "decision_pdf")]
    exclude = ("decision_pdf",)
    inlines = [DocumentInline]
    actions = ["assign_to_me", "accept_at_rule_amount"]
    change_form_template = "admin/prestations/demande/change_form.html"
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(status=Demande.Status.DRAFT).annotate(
            waited=ExpressionWrapper(Now() - F("submitted_at"), output_field=DurationField()))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("attente (jours)"), ordering="waited")
    def days_waited(self, obj):
        if obj.submitted_at is None:
            return "—"
        days = (timezone.now() - obj.submitted_at).days
        if obj.status in Demande.OPEN and days > obj.prestation.instruction_limit_days:
            return format_html('<strong style="color:#b00020">{} ⚠</strong>', days)
        return days

    def get_urls(self):
        return [
            path("<int:pk>/instruire/", self.admin_site.admin_view(self.instruct), name="prestations_demande_instruct"),
            path("<int:pk>/pieces/<int:doc>/", self.admin_site.admin_view(self.document),
                 name="prestations_demande_document"),
            path("<int:pk>/decision/", self.admin_site.admin_view(self.decision), name="prestations_demande_decision"),
            *super().get_urls(),
        ]

    def _get(self, request, pk) -> Demande:
        demande = get_object_or_404(self.get_queryset(request), pk=pk)  # outside the region: 404
        if not self.has_view_permission(request, demande):
            raise PermissionDenied
        return demande

    def document(self, request, pk, doc):
        demande = self._get(request, pk)
        document = get_object_or_404(demande.documents, pk=doc)
        return private_files.serve(document.file, content_type=document.content_type, filename=document.original_name,
                                   inline=True)

    def decision(self, request, pk):
        return private_files.serve(self._get(request, pk).decision_pdf, content_type="application/pdf", inline=True)

    def instruct(self, request, pk):
        demande = self._get(request, pk)
        if request.method != "POST" or not self.has_instruct_permission(request):
            raise PermissionDenied
        action, post = request.POST.get("action"), request.POST
        try:
            if action == "assign":
                services.assign(actor=request.user, demande=demande)
            elif action == "accept":
                amount = MoneyField(required=False).clean(post.get("amount", ""))
                services.accept(actor=request.user, demande=demande, amount=amount, reason=post.get("reason", ""))
            elif action == "refuse":
                services.refuse(actor=request.user, demande=demande, reason=post.get("reason", ""))
            elif action == "ask":
                services.ask_documents(actor=request.user, demande=demande, message=post.get("message", ""))
            elif action == "message":
                services.post_message(actor=request.user, demande=demande, text=post.get("message", ""),
                                      from_staff=True)
            else:
                raise ValidationError(_("Action inconnue."))
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, _("C'est fait."), messages.SUCCESS)
        return redirect("admin:prestations_demande_change", demande.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        demande = self.get_object(request, object_id)
        extra = {}
        if demande is not None:
            extra = {"verdict": services.verdict_for(demande, on=timezone.localdate(demande.submitted_at))
                     if demande.submitted_at else None,
                     "events": demande.events.select_related("actor"), "demande": demande}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def has_instruct_permission(self, request):
        return request.user.has_perm("prestations.instruct_demande")

    @admin.action(description=_("M'attribuer les demandes"), permissions=["instruct"])
    def assign_to_me(self, request, queryset):
        for demande in queryset:
            services.assign(actor=request.user, demande=demande)

    @admin.action(description=_("Accepter au montant de la règle"), permissions=["instruct"])
    def accept_at_rule_amount(self, request, queryset):
        done = 0
        for demande in queryset.filter(status=Demande.Status.SUBMITTED):
            try:
                services.accept(actor=request.user, demande=demande)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{demande.pk} : {' '.join(exc.messages)}", messages.WARNING)
        self.message_user(request, _("%(n)s demande(s) acceptée(s).") % {"n": done})


@admin.register(DemandeEvent)
class DemandeEventAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "demande__region"
    list_display = ("demande", "at", "kind", "status", "actor")
    list_filter = ("kind",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DemandeDocument)
class DemandeDocumentAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "demande__region"
    list_display = ("demande", "label", "original_name", "content_type", "size", "uploaded_at")
    exclude = ("file",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PaymentBatch)
class PaymentBatchAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """Batches of a delegation, or national ones (every region's accepted requests)."""

    region_lookup = "region"
    list_display = ("message_id", "status", "count", "total", "execution_date", "created_at", "sent_at", "file_link")
    readonly_fields = ("message_id", "status", "count", "total", "execution_date", "created_by", "created_at",
                       "sent_at", "sent_by", "file_link")
    exclude = ("file",)
    actions = ["confirm_sent"]
    change_list_template = "admin/prestations/paymentbatch/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("preparer/", self.admin_site.admin_view(self.prepare), name="prestations_paymentbatch_prepare"),
            path("<int:pk>/fichier/", self.admin_site.admin_view(self.download), name="prestations_paymentbatch_file"),
            *super().get_urls(),
        ]

    @admin.display(description=_("fichier"))
    def file_link(self, obj):
        if not obj.file:
            return "—"
        return format_html('<a href="{}">pain.001</a>', reverse("admin:prestations_paymentbatch_file",
                                                                 args=[obj.pk]))

    def download(self, request, pk):
        batch = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_permission(request, batch):
            raise PermissionDenied
        return private_files.serve(batch.file, content_type=private_files.OPAQUE, filename=f"{batch.message_id}.xml")

    def has_prepare_permission(self, request):
        return request.user.has_perm("prestations.prepare_paymentbatch")

    def has_confirm_permission(self, request):
        return request.user.has_perm("prestations.confirm_paymentbatch")

    def prepare(self, request):
        if request.method != "POST" or not self.has_prepare_permission(request):
            raise PermissionDenied
        scope = staff_scope(request.user)
        if scope.sees_nothing:
            raise PermissionDenied
        try:
            batch = services.prepare_batch(actor=request.user, region_id=None if scope.national else scope.region_id)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect("admin:prestations_paymentbatch_changelist")
        self.message_user(request, _("Lot %(id)s : %(n)s virement(s), %(total)s €.") % {
            "id": batch.message_id, "n": batch.count, "total": batch.total})
        return redirect("admin:prestations_paymentbatch_change", batch.pk)

    @admin.action(description=_("Confirmer l'envoi à la banque (les demandes passent à payées)"),
                  permissions=["confirm"])
    def confirm_sent(self, request, queryset):
        for batch in queryset:
            services.confirm_batch_sent(actor=request.user, batch=batch)
        self.message_user(request, _("Envoi confirmé."))


@admin.register(Bracket)
class BracketAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "le catalogue national"
    list_display = ("prestation", "qf_max", "amount")
    list_filter = ("prestation",)
    autocomplete_fields = ("prestation",)
