"""Admin of regional delegations, adherents, adhesions, managers and joining applications."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from adhesions import services
from adhesions.models import (
    Adherent,
    Adhesion,
    Manager,
    MembershipApplication,
    Region,
)
from cnas.admin import AuditedModelAdmin, ObjectAction, ObjectActionsMixin, PrivateFileAdminMixin, TabularInline


@admin.register(Region)
class RegionAdmin(AuditedModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class AdhesionInline(TabularInline):
    """Read-only here: an adhesion changes through its own page, whose actions call the services."""

    model = Adhesion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("start_date", "end_date", "status", "covers_retired", "status_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ManagerInline(TabularInline):
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


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Conservé dans le journal d'audit."))


class EndAdhesionForm(ReasonForm):
    end_date = forms.DateField(label=_("Dernier jour couvert"), widget=AdminDateWidget())
    field_order = ["end_date", "reason"]


class SuspendAdhesionForm(ReasonForm):
    from_date = forms.DateField(label=_("Suspendue à partir du"), widget=AdminDateWidget())
    field_order = ["from_date", "reason"]


class ResumeAdhesionForm(forms.Form):
    on = forms.DateField(label=_("Reprise le"), widget=AdminDateWidget())
    reason = forms.CharField(label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RetiredForm(ReasonForm):
    covers_retired = forms.BooleanField(label=_("L'adhésion couvre les retraités"), required=False)
    field_order = ["covers_retired", "reason"]


def _recomputed(adhesion: Adhesion, verb: str) -> str:
    return _("Adhésion de %(name)s %(verb)s : la couverture de ses agents est recalculée.") % {
        "name": adhesion.adherent.name, "verb": verb}


ADHESION_ACTIONS = (
    ObjectAction(
        name="resilier", label=_("Résilier"), form_class=EndAdhesionForm,
        help_text=_("Après le dernier jour couvert, les agents ne sont plus couverts par cette adhésion (sauf le "
                    "maintien des droits de ceux partis avant, jusqu'au 31 décembre) et les campagnes suivantes ne "
                    "la comptent plus."),
        is_available=lambda a: a.status == Adhesion.Status.ACTIVE,
        run=lambda request, a, **data: _recomputed(services.end_adhesion(actor=request.user, adhesion=a, **data),
                                                   _("résiliée"))),
    ObjectAction(
        name="suspendre", label=_("Suspendre"), form_class=SuspendAdhesionForm,
        help_text=_("La couverture s'arrête à la date choisie jusqu'à la reprise (une nouvelle période)."),
        is_available=lambda a: a.status == Adhesion.Status.ACTIVE,
        run=lambda request, a, **data: _recomputed(services.suspend_adhesion(actor=request.user, adhesion=a, **data),
                                                   _("suspendue"))),
    ObjectAction(
        name="reprendre", label=_("Reprendre"), form_class=ResumeAdhesionForm,
        is_available=lambda a: a.status == Adhesion.Status.SUSPENDED,
        run=lambda request, a, **data: _recomputed(services.resume_adhesion(actor=request.user, adhesion=a, **data),
                                                   _("reprise"))),
    ObjectAction(
        name="activer", label=_("Activer"), form_class=forms.Form,
        is_available=lambda a: a.status == Adhesion.Status.PENDING,
        run=lambda request, a: _recomputed(services.activate_adhesion(actor=request.user, adhesion=a),
                                           _("activée"))),
    ObjectAction(
        name="retraites", label=_("Couverture des retraités"), form_class=RetiredForm,
        is_available=lambda a: a.status == Adhesion.Status.ACTIVE,
        initial=lambda a: {"covers_retired": a.covers_retired},
        run=lambda request, a, **data: _recomputed(
            services.set_retired_coverage(actor=request.user, adhesion=a, **data), _("modifiée"))),
)


class OpenAdhesionForm(forms.ModelForm):
    class Meta:
        model = Adhesion
        fields = ["adherent", "start_date", "covers_retired"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("adherent") and cleaned.get("start_date"):
            try:
                services.check_adhesion_period(adherent=cleaned["adherent"], start_date=cleaned["start_date"])
            except ValidationError as exc:
                self.add_error("start_date", exc.messages)
        return cleaned


@admin.register(Adhesion)
class AdhesionAdmin(ObjectActionsMixin, AuditedModelAdmin):
    """An adhesion is opened here, then suspended, resumed or ended by its actions, which call the
    services: the coverage of every agent follows at once."""

    list_display = ("adherent", "start_date", "end_date", "status", "covers_retired")
    list_filter = ("status", "covers_retired", "adherent__kind", "adherent__region")
    search_fields = ("adherent__name", "adherent__siret")
    autocomplete_fields = ("adherent",)
    list_select_related = ("adherent",)
    date_hierarchy = "start_date"
    form = OpenAdhesionForm
    object_actions = ADHESION_ACTIONS
    read_only_page = True

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("adherent", "start_date", "end_date", "status", "covers_retired", "status_reason", "created_at")

    def get_fields(self, request, obj=None):
        return ["adherent", "start_date", "covers_retired"] if obj is None else list(
            self.get_readonly_fields(request, obj))

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is editable on the page: the actions change an adhesion
        data = form.cleaned_data
        try:
            adhesion = services.open_adhesion(actor=request.user, adherent=data["adherent"],
                                              start_date=data["start_date"], covers_retired=data["covers_retired"])
        except ValidationError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = adhesion.pk


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
