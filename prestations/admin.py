import datetime
from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import DurationField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Now
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.scope import RegionScopedAdmin, staff_scope
from cnas import outbox, private_files
from cnas.admin import AuditedModelAdmin, ReadOnlyAdminMixin, StackedInline, TabularInline
from cnas.forms import MoneyField
from cnas.money import format_euros
from prestations import services
from prestations.models import (
    Bracket,
    Demande,
    DemandeDocument,
    DemandeEvent,
    DocumentKind,
    IndicatorSnapshot,
    LetterWording,
    LoanProduct,
    PaymentBatch,
    Prestation,
    PrestationDelays,
)

admin.site.index_template = "admin/prestations/index.html"  # the staff dashboard above the apps


@admin.register(DocumentKind)
class DocumentKindAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "le catalogue national"
    list_display = ("label", "code", "help_text")
    search_fields = ("label", "code")
    prepopulated_fields = {"code": ("label",)}


@admin.register(LetterWording)
class LetterWordingAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """The wording of the decision letters, one per kind of decision; the facts (amount, dates, reasons,
    addresses) are the letter's own. An edit changes the letters written after it."""

    unscoped = "les textes nationaux des lettres"
    list_display = ("kind", "commission_name", "updated_at")
    fieldsets = ((None, {"fields": ("kind", "opening", "closing", "signature_formula")}),
                 (_("Voies de recours"), {"fields": ("contest", "commission_name", "commission_address")}))

    def get_readonly_fields(self, request, obj=None):
        return ("kind",) if obj else ()

    def has_add_permission(self, request):  # one per kind of decision
        existing = LetterWording.objects.count()
        return existing < len(LetterWording.Kind.choices) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class BracketInline(TabularInline):
    model = Bracket
    extra = 1


class LoanProductInline(StackedInline):
    """What a prestation of the category « prêts » lends (its amount rule: « prêt »)."""

    model = LoanProduct
    extra = 0
    max_num = 1
    fields = (("min_amount", "max_amount"), "durations", "annual_rate", "max_deferral_months", "debt_ratio_limit",
              "one_at_a_time")


@admin.register(Prestation)
class PrestationAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "le catalogue national"
    list_display = ("name", "code", "category", "event", "amount_rule", "fixed_amount", "for_working", "for_retired",
                    "employer_attestation", "is_active", "valid_until")
    list_filter = ("category", "event", "amount_rule", "is_active", "employer_attestation")
    search_fields = ("name", "code", "description")
    prepopulated_fields = {"code": ("name",)}
    filter_horizontal = ("required_documents",)
    inlines = [BracketInline, LoanProductInline]
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


def _late(queryset):
    return queryset.filter(status__in=Demande.OPEN, waited__gt=ExpressionWrapper(
        F("prestation__instruction_limit_days") * Value(datetime.timedelta(days=1)), output_field=DurationField()))


class QueueFilter(admin.SimpleListFilter):
    """The instructor's tabs: by default the open requests (of his region: the scope does that)."""

    title = _("file")
    parameter_name = "file"
    DEFAULT = "ouvertes"
    template = "admin/prestations/demande/queue_filter.html"  # drawn as tabs above the list

    def lookups(self, request, model_admin):
        return [("ouvertes", _("Ouvertes")), ("moi", _("À moi")), ("libres", _("Non attribuées")),
                ("pieces", _("En attente de pièces")), ("retard", _("En retard")), ("avis", _("Avis demandés à moi")),
                ("toutes", _("Toutes"))]

    def value(self):
        return super().value() or self.DEFAULT

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {"selected": self.value() == str(lookup), "query_string": changelist.get_query_string(
                {self.parameter_name: lookup}), "display": title}

    def queryset(self, request, queryset):
        value = self.value()
        if value == "toutes":
            return queryset
        if value == "avis":
            return queryset.filter(pk__in=DemandeEvent.objects.filter(
                kind=DemandeEvent.Kind.OPINION_ASKED, addressee=request.user, answer__isnull=True)
                .values("demande_id"))
        open_ = queryset.filter(status__in=Demande.OPEN)
        if value == "moi":
            return open_.filter(assigned_to=request.user)
        if value == "libres":
            return open_.filter(assigned_to__isnull=True, status=Demande.Status.SUBMITTED)
        if value == "pieces":
            return open_.filter(status=Demande.Status.AWAITING_DOCUMENTS)
        if value == "retard":
            return _late(open_)
        return open_


class PrestationFilter(admin.SimpleListFilter):
    """By prestation: the catalogue (the same for every region), not a scan of the requests."""

    title = _("prestation")
    parameter_name = "prestation"

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in Prestation.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(prestation_id=int(value)) if value and value.isascii() and value.isdigit() else queryset


class RegionFilter(admin.SimpleListFilter):
    """By delegation, for national staff (a regional instructor sees his own only)."""

    title = _("délégation")
    parameter_name = "delegation"

    def lookups(self, request, model_admin):
        from adhesions.models import Region

        if not staff_scope(request.user).national:
            return []
        return [(str(pk), name) for pk, name in Region.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(region_id=int(value)) if value and value.isascii() and value.isdigit() else queryset


class CappedPaginator(Paginator):
    """The queue counts up to 10,000 requests (beyond, « plus de 10 000 »): counting the million
    requests of a tab would cost more than showing its first page."""

    CAP = 10_000

    @cached_property
    def count(self):
        return self.object_list.order_by()[: self.CAP + 1].count()


class InstructorFilter(admin.SimpleListFilter):
    """By instructor: the staff of my scope who may instruct (not a scan of every request's assignee)."""

    title = _("instructeur")
    parameter_name = "instructeur"

    def lookups(self, request, model_admin):
        from django.contrib.auth import get_user_model

        scope = staff_scope(request.user)
        people = get_user_model().objects.filter(is_active=True, is_staff=True).filter(
            Q(is_superuser=True) | Q(groups__permissions__codename="instruct_demande")
            | Q(user_permissions__codename="instruct_demande"))
        if not scope.national:
            people = people.filter(staff_profile__region_id=scope.region_id)
        return [("personne", _("personne")), *[(str(u.pk), u.get_full_name() or u.email)
                                               for u in people.distinct().order_by("last_name", "email")[:100]]]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "personne":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isascii() and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


INSTRUCTION_ACTIONS = ("assign", "accept", "refuse", "ask", "message", "note", "ask_opinion", "give_opinion")


@admin.register(Demande)
class DemandeAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """The instruction queue (the open requests of the staff member's region, oldest first) and the
    instruction page of each request, where every decision is taken through the services."""

    region_lookup = "region"
    list_display = ("number", "agent", "prestation_name", "status", "submitted_on", "days_waited", "assigned_to")
    list_display_links = ("number", "agent")
    list_filter = (QueueFilter, "status", PrestationFilter, RegionFilter, InstructorFilter)
    paginator = CappedPaginator
    search_fields = ("agent__last_name", "agent__first_name", "=id")
    list_select_related = ("prestation", "agent", "assigned_to", "region")
    list_per_page = 50
    ordering = ("submitted_at", "id")
    readonly_fields = [f.name for f in Demande._meta.fields
                       if f.name not in ("id", "decision_pdf", "refusal_attestation_pdf")]
    exclude = ("decision_pdf", "refusal_attestation_pdf")
    actions = ["assign_to_me", "accept_at_rule_amount"]
    change_list_template = "admin/prestations/demande/change_list.html"
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(status=Demande.Status.DRAFT).annotate(
            waited=ExpressionWrapper(Now() - F("submitted_at"), output_field=DurationField()))

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        return [*shown, "region"] if staff_scope(request.user).national else shown

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # every change is an instruction action, through the services

    @admin.display(description=_("n°"), ordering="id")
    def number(self, obj):
        return obj.pk

    @admin.display(description=_("prestation"), ordering="prestation__name")
    def prestation_name(self, obj):
        return obj.prestation.name

    @admin.display(description=_("déposée le"), ordering="submitted_at")
    def submitted_on(self, obj):
        return date_format(timezone.localtime(obj.submitted_at), "SHORT_DATE_FORMAT") if obj.submitted_at else "—"

    @admin.display(description=_("attente / délai (jours)"), ordering="waited")
    def days_waited(self, obj):
        if obj.submitted_at is None:
            return "—"
        days, limit = (timezone.now() - obj.submitted_at).days, obj.prestation.instruction_limit_days
        if obj.status in Demande.OPEN and days > limit:
            return format_html('<strong class="late">{} / {} <span>{}</span></strong>', days, limit, _("en retard"))
        return f"{days} / {limit}"

    def changelist_view(self, request, extra_context=None):
        current = request.GET.get(QueueFilter.parameter_name, QueueFilter.DEFAULT)
        tabs = []
        for value, label in QueueFilter(request, {}, Demande, self).lookup_choices:
            query = request.GET.copy()
            query[QueueFilter.parameter_name] = value
            query.pop("p", None)
            tabs.append({"label": label, "url": "?" + query.urlencode(), "current": value == current})
        return super().changelist_view(request, {**(extra_context or {}), "queue_tabs": tabs,
                                                 "next_request": services.next_in_queue(user=request.user)})

    def get_urls(self):
        return [
            path("<int:pk>/instruire/", self.admin_site.admin_view(self.instruct), name="prestations_demande_instruct"),
            path("<int:pk>/pieces/<int:doc>/", self.admin_site.admin_view(self.document),
                 name="prestations_demande_document"),
            path("<int:pk>/decision/", self.admin_site.admin_view(self.decision), name="prestations_demande_decision"),
            path("<int:pk>/attestation-de-refus/", self.admin_site.admin_view(self.refusal_attestation),
                 name="prestations_demande_refusal_attestation"),
            path("suivante/", self.admin_site.admin_view(self.next_request), name="prestations_demande_next"),
            path("indicateurs/recalculer/", self.admin_site.admin_view(self.refresh_indicators),
                 name="prestations_indicators_refresh"),
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

    def refusal_attestation(self, request, pk):
        return private_files.serve(self._get(request, pk).refusal_attestation_pdf, content_type="application/pdf",
                                   inline=True)

    def refresh_indicators(self, request):
        """« Recalculer maintenant » on the dashboard: the worker counts again (the staff member's scope)."""
        scope = staff_scope(request.user)
        if request.method != "POST" or scope.sees_nothing:
            raise PermissionDenied
        outbox.enqueue("prestations.tasks.refresh_indicators", region_id=None if scope.national else scope.region_id,
                       every_region=scope.national, dedupe_key=f"indicators:{scope.region_id or 'national'}")
        self.message_user(request, _("Les indicateurs sont recalculés : rechargez la page dans un instant."))
        return redirect("admin:index")

    def next_request(self, request):
        """« Demande suivante » : the oldest open request of my queue (mine or nobody's)."""
        after = request.GET.get("apres", "")
        following = services.next_in_queue(user=request.user, after=Demande(pk=int(after)) if after.isdigit() else None)
        if following is None:
            self.message_user(request, _("Aucune autre demande n'attend dans votre file."), messages.INFO)
            return redirect("admin:prestations_demande_changelist")
        return redirect("admin:prestations_demande_change", following.pk)

    def instruct(self, request, pk):
        demande = self._get(request, pk)
        if request.method != "POST" or not self.has_instruct_permission(request):
            raise PermissionDenied
        action, post = request.POST.get("action"), request.POST
        if action not in INSTRUCTION_ACTIONS:
            self.message_user(request, _("Action inconnue."), messages.ERROR)
            return redirect("admin:prestations_demande_change", demande.pk)
        try:
            done = self._instruct(request, demande, action, post)
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return redirect("admin:prestations_demande_change", demande.pk)

    def _instruct(self, request, demande: Demande, action: str, post) -> str:
        """One instruction action through its service; returns what the staff member is told."""
        user, number = request.user, demande.pk
        if action == "assign":
            services.assign(actor=user, demande=demande)
            return _("Demande n° %(n)s : elle vous est attribuée.") % {"n": number}
        if action == "accept":
            amount = MoneyField(required=False).clean(post.get("amount", ""))
            accepted = services.accept(actor=user, demande=demande, amount=amount, reason=post.get("reason", ""))
            return _("Demande n° %(n)s acceptée : %(amount)s.") % {"n": number,
                                                                    "amount": format_euros(accepted.amount_granted)}
        if action == "refuse":
            services.refuse(actor=user, demande=demande, reason=post.get("reason", ""))
            return _("Demande n° %(n)s refusée ; l'agent est prévenu.") % {"n": number}
        if action == "ask":
            services.ask_documents(actor=user, demande=demande, message=post.get("message", ""))
            return _("Demande n° %(n)s : pièces demandées à l'agent.") % {"n": number}
        if action == "message":
            services.post_message(actor=user, demande=demande, text=post.get("message", ""), from_staff=True)
            return _("Demande n° %(n)s : message envoyé à l'agent.") % {"n": number}
        if action == "note":
            services.add_note(actor=user, demande=demande, text=post.get("note", ""))
            return _("Demande n° %(n)s : note interne ajoutée.") % {"n": number}
        if action == "ask_opinion":
            colleague = self._colleagues(request, demande).filter(pk=_int(post.get("addressee"))).first()
            services.ask_opinion(actor=user, demande=demande, addressee=colleague, question=post.get("question", ""))
            return _("Demande n° %(n)s : avis demandé à %(who)s.") % {"n": number, "who": colleague.email}
        asked = get_object_or_404(demande.events, pk=_int(post.get("asked")), kind=DemandeEvent.Kind.OPINION_ASKED)
        services.give_opinion(actor=user, asked=asked, text=post.get("opinion", ""))
        return _("Demande n° %(n)s : votre avis est enregistré.") % {"n": number}

    def _colleagues(self, request, demande: Demande):
        """Staff who may read this request, but the user himself (for an opinion)."""
        from django.contrib.auth import get_user_model
        from django.db.models import Q as Query

        candidates = (get_user_model().objects.filter(is_active=True, is_staff=True).exclude(pk=request.user.pk)
                      .filter(Query(is_superuser=True) | Query(groups__permissions__codename="view_demande")
                              | Query(user_permissions__codename="view_demande"))
                      .select_related("staff_profile").distinct().order_by("last_name", "first_name", "email"))
        if demande.region_id is not None:
            candidates = candidates.filter(Query(is_superuser=True) | Query(staff_profile__is_national=True)
                                           | Query(staff_profile__region_id=demande.region_id))
        return candidates

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The instruction page: the request, its verdict, documents, household, earlier requests and
        timeline on one screen, the actions in a panel always in sight."""
        demande = self._get(request, _int(object_id))
        demande = (Demande.objects.select_related("agent", "prestation", "child", "adherent", "region",
                                                  "assigned_to", "decided_by")
                   .annotate(waited=ExpressionWrapper(Now() - F("submitted_at"), output_field=DurationField()))
                   .get(pk=demande.pk))
        events = list(demande.events.select_related("actor", "addressee"))
        answered = {e.answers_id for e in events if e.answers_id}
        to_answer = [e for e in events if e.kind == DemandeEvent.Kind.OPINION_ASKED
                     and e.addressee_id == request.user.pk and e.pk not in answered]
        earlier = (demande.agent.demandes.exclude(pk=demande.pk).exclude(status=Demande.Status.DRAFT)
                   .select_related("prestation").order_by("-submitted_at")[:20])
        can_instruct = self.has_instruct_permission(request)
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": _("Demande n° %(n)s") % {
                "n": demande.pk}, "demande": demande, "events": events, "earlier": earlier,
            "verdict": services.verdict_for(demande, on=timezone.localdate(demande.submitted_at))
            if demande.submitted_at else None,
            "documents": demande.documents.select_related("kind"),
            "household": demande.agent.household.all(),
            "days": (timezone.now() - demande.submitted_at).days if demande.submitted_at else None,
            "can_instruct": can_instruct,
            "colleagues": self._colleagues(request, demande)[:200] if can_instruct else [],
            "to_answer": to_answer, "staff_only": DemandeEvent.STAFF_ONLY,
            "has_history": True, "original": demande,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/prestations/demande/instruction.html", context)

    def has_instruct_permission(self, request):
        return request.user.has_perm("prestations.instruct_demande")

    @admin.action(description=_("M'attribuer les demandes"), permissions=["instruct"])
    def assign_to_me(self, request, queryset):
        done = 0
        for demande in queryset.filter(status__in=Demande.OPEN):
            services.assign(actor=request.user, demande=demande)
            done += 1
        self.message_user(request, ngettext("%(n)s demande vous est attribuée.", "%(n)s demandes vous sont attribuées.",
                                            done) % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Accepter au montant de la règle"), permissions=["instruct"])
    def accept_at_rule_amount(self, request, queryset):
        done, total = 0, Decimal("0")
        for demande in queryset.filter(status=Demande.Status.SUBMITTED):
            try:
                accepted = services.accept(actor=request.user, demande=demande)
            except ValidationError as exc:
                self.message_user(request, _("Demande n° %(n)s : %(why)s") % {"n": demande.pk,
                                                                              "why": " ".join(exc.messages)},
                                  messages.WARNING)
            else:
                done, total = done + 1, total + accepted.amount_granted
        self.message_user(request, ngettext("%(n)s demande acceptée, pour %(total)s.",
                                            "%(n)s demandes acceptées, pour %(total)s.", done) % {
            "n": done, "total": format_euros(total)}, messages.SUCCESS if done else messages.INFO)


def _int(value) -> int:
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else 0


@admin.register(IndicatorSnapshot)
class IndicatorSnapshotAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """The dashboard's figures as the worker last computed them (the home page shows them)."""

    region_lookup = "region"
    list_display = ("__str__", "computed_at")


@admin.register(PrestationDelays)
class PrestationDelaysAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """The delays each prestation's page shows, as the worker last computed them (every ten minutes)."""

    unscoped = "le catalogue national"
    list_display = ("prestation", "median_days", "p90_days", "decided", "computed_at")
    search_fields = ("prestation__name",)


@admin.register(LoanProduct)
class LoanProductAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """The loan products of the catalogue (also edited on their prestation's page)."""

    unscoped = "le catalogue national"
    list_display = ("prestation", "min_amount", "max_amount", "durations", "annual_rate", "max_deferral_months",
                    "debt_ratio_limit", "one_at_a_time")
    search_fields = ("prestation__name", "prestation__code")
    fields = ("prestation", *LoanProductInline.fields)


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
