"""Admin of regional delegations, adherents, adhesions, managers and joining applications."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.scope import RegionScopedAdmin, staff_scope
from adhesions import services
from adhesions.models import (
    Adherent,
    Adhesion,
    Manager,
    MembershipApplication,
    Region,
)
from cnas.admin import (
    AuditedModelAdmin,
    ObjectAction,
    ObjectActionsMixin,
    PrivateFileAdminMixin,
    ReadOnlyAdminMixin,
    TabularInline,
)
from cnas.forms import DateField


@admin.register(Region)
class RegionAdmin(RegionScopedAdmin, AuditedModelAdmin):
    unscoped = "les délégations elles-mêmes"
    list_display = ("code", "name", "city", "phone", "email")
    search_fields = ("code", "name")
    fieldsets = ((None, {"fields": ("code", "name")}),
                 (_("Accueil des agents"), {"fields": ("address", "postcode", "city", "phone", "email",
                                                        "opening_hours")}))


class AdhesionInline(ReadOnlyAdminMixin, TabularInline):
    """Read-only here: an adhesion changes through its own page, whose actions call the services."""

    model = Adhesion
    extra = 0
    show_change_link = True
    fields = ("start_date", "end_date", "status", "covers_retired", "status_reason")
    readonly_fields = fields


class ManagerInline(ReadOnlyAdminMixin, TabularInline):
    """Managers come from invitations (the action « Inviter un gestionnaire ») and leave by « Retirer »."""

    model = Manager
    extra = 0
    show_change_link = True
    fields = ("user", "role", "created_at")
    readonly_fields = fields


class InviteManagerForm(forms.Form):
    email = forms.EmailField(label=_("E-mail du nouveau gestionnaire"),
                             help_text=_("Il reçoit un lien pour ouvrir son compte, puis active sa double "
                                         "authentification."))


class AdherentForm(forms.ModelForm):
    class Meta:
        model = Adherent
        fields = list(services.structures.ADHERENT_FIELDS)


@admin.register(Adherent)
class AdherentAdmin(ObjectActionsMixin, RegionScopedAdmin, AuditedModelAdmin):
    region_lookup = "region"
    form = AdherentForm
    list_display = ("name", "kind", "category", "siret", "city", "region")
    list_filter = ("kind", "category", "region")
    search_fields = ("name", "siret", "city", "postcode")
    list_select_related = ("region",)
    inlines = [AdhesionInline, ManagerInline]
    fieldsets = (
        (None, {"fields": ("name", "kind", "category", "siret", "region")}),
        (_("Coordonnées"), {"fields": ("address", "postcode", "city", "email", "phone")}),
    )
    object_actions = (
        ObjectAction(name="inviter", label=_("Inviter un gestionnaire"), form_class=InviteManagerForm,
                     permission="adhesions.add_manager",
                     run=lambda request, adherent, email: _("L'invitation part à %(email)s.") % {
                         "email": services.invite_correspondent(actor=request.user, adherent=adherent,
                                                                email=email).email}),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {field: form.cleaned_data[field] for field in services.structures.ADHERENT_FIELDS}
        if change:
            services.update_adherent(actor=request.user, adherent=obj, **data)
        else:
            obj.pk = services.create_adherent(actor=request.user, **data).pk


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motif"), widget=forms.Textarea(attrs={"rows": 3}),
                             help_text=_("Conservé dans le journal d'audit."))


class EndAdhesionForm(ReasonForm):
    end_date = DateField(label=_("Dernier jour couvert"), widget=AdminDateWidget())
    field_order = ["end_date", "reason"]


class SuspendAdhesionForm(ReasonForm):
    from_date = DateField(label=_("Suspendue à partir du"), widget=AdminDateWidget())
    field_order = ["from_date", "reason"]


class ResumeAdhesionForm(forms.Form):
    on = DateField(label=_("Reprise le"), widget=AdminDateWidget())
    reason = forms.CharField(label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RetiredForm(ReasonForm):
    covers_retired = forms.BooleanField(label=_("L'adhésion couvre les retraités"), required=False)
    field_order = ["covers_retired", "reason"]


def _recomputed(adhesion: Adhesion, verb: str) -> str:
    return _("Adhésion de %(name)s %(verb)s : la couverture de ses agents est recalculée.") % {
        "name": adhesion.adherent.name, "verb": verb}


MANAGE = "adhesions.manage_adhesion"
ADHESION_ACTIONS = (
    ObjectAction(
        permission=MANAGE, name="resilier", label=_("Résilier"), form_class=EndAdhesionForm,
        help_text=_("Après le dernier jour couvert, les agents ne sont plus couverts par cette adhésion (sauf le "
                    "maintien des droits de ceux partis avant, jusqu'au 31 décembre) et les campagnes suivantes ne "
                    "la comptent plus."),
        is_available=lambda a: a.status == Adhesion.Status.ACTIVE,
        run=lambda request, a, **data: _recomputed(services.end_adhesion(actor=request.user, adhesion=a, **data),
                                                   _("résiliée"))),
    ObjectAction(
        permission=MANAGE, name="suspendre", label=_("Suspendre"), form_class=SuspendAdhesionForm,
        help_text=_("La couverture s'arrête à la date choisie jusqu'à la reprise (une nouvelle période)."),
        is_available=lambda a: a.status == Adhesion.Status.ACTIVE,
        run=lambda request, a, **data: _recomputed(services.suspend_adhesion(actor=request.user, adhesion=a, **data),
                                                   _("suspendue"))),
    ObjectAction(
        permission=MANAGE, name="reprendre", label=_("Reprendre"), form_class=ResumeAdhesionForm,
        is_available=lambda a: a.status == Adhesion.Status.SUSPENDED,
        run=lambda request, a, **data: _recomputed(services.resume_adhesion(actor=request.user, adhesion=a, **data),
                                                   _("reprise"))),
    ObjectAction(
        permission=MANAGE, name="activer", label=_("Activer"), form_class=forms.Form,
        is_available=lambda a: a.status == Adhesion.Status.PENDING,
        run=lambda request, a: _recomputed(services.activate_adhesion(actor=request.user, adhesion=a),
                                           _("activée"))),
    ObjectAction(
        permission=MANAGE, name="retraites", label=_("Couverture des retraités"), form_class=RetiredForm,
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
class AdhesionAdmin(ObjectActionsMixin, RegionScopedAdmin, AuditedModelAdmin):
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
    region_lookup = "adherent__region"

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
class ManagerAdmin(ObjectActionsMixin, RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "adherent__region"
    list_display = ("user", "adherent", "role", "created_at")
    list_filter = ("role", "adherent__kind")
    search_fields = ("user__email", "adherent__name", "adherent__siret")
    list_select_related = ("user", "adherent")
    object_actions = (
        ObjectAction(name="retirer", label=_("Retirer ce gestionnaire"), form_class=ReasonForm,
                     permission="adhesions.delete_manager",
                     run=lambda request, manager, reason: (services.remove_manager(
                         actor=request.user, manager=manager, reason=reason), _("Gestionnaire retiré."))[1]),
    )


class ApproveForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Délégation régionale"), queryset=Region.objects.none())

    def __init__(self, *args, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = regions if regions is not None else Region.objects.none()


def _regions_of(request, obj):
    scope = staff_scope(request.user)
    regions = Region.objects.all() if scope.national else Region.objects.filter(pk=scope.region_id)
    return {"regions": regions}


def _approve(request, application, region):
    adherent = services.approve_application(actor=request.user, application=application, region=region)
    return _("%(name)s est adhérent ; l'invitation part à %(email)s.") % {
        "name": adherent.name, "email": application.contact_email}


def _reject(request, application, reason):
    services.reject_application(actor=request.user, application=application, reason=reason)
    return _("Demande de %(name)s refusée.") % {"name": application.name}


@admin.register(MembershipApplication)
class MembershipApplicationAdmin(ObjectActionsMixin, RegionScopedAdmin, ReadOnlyAdminMixin, PrivateFileAdminMixin,
                                 AuditedModelAdmin):
    """Applications arrive from the public form; a national staff member (or the delegation it was
    given to) approves one — choosing its delegation — or refuses it with a reason."""

    region_lookup = "region"
    read_only_page = True
    private_file_field = "deliberation"
    private_file_type = "application/pdf"
    list_display = ("name", "siret", "kind", "city", "contact_email", "created_at", "status", "region")
    list_filter = ("status", "kind", "region")
    search_fields = ("name", "siret", "contact_email", "city")
    readonly_fields = ("file_link",)
    exclude = ("deliberation",)
    object_actions = (
        ObjectAction(name="approuver", label=_("Approuver"), form_class=ApproveForm,
                     permission="adhesions.decide_membershipapplication", form_kwargs=_regions_of,
                     initial=lambda a: {"region": a.region_id},
                     is_available=lambda a: a.status == MembershipApplication.Status.PENDING,
                     help_text=_("Crée l'adhérent et son adhésion, et invite le contact comme premier "
                                 "correspondant."), run=_approve),
        ObjectAction(name="refuser", label=_("Refuser"), form_class=ReasonForm,
                     permission="adhesions.decide_membershipapplication",
                     is_available=lambda a: a.status == MembershipApplication.Status.PENDING, run=_reject),
    )
