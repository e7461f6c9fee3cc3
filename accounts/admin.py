from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import services
from accounts.models import Agent, FamilyMember, StaffProfile, TaxDeclaration, User
from accounts.roles import ROLES, ROLES_BY_NAME
from accounts.scope import RegionScopedAdmin, agents_of_region
from cnas import outbox
from cnas.admin import AuditedModelAdmin, PrivateFileAdminMixin, ReadOnlyAdminMixin, TabularInline
from cnas.models import AuditEntry, ExportJob, Heartbeat, IdempotencyKey, OutboxItem

# --- Staff accounts: only administrators, through the services (no escalation) --------------------


class StaffAccountForm(forms.ModelForm):
    roles = forms.ModelMultipleChoiceField(label=_("Rôles"), queryset=Group.objects.none(), required=False,
                                           widget=forms.CheckboxSelectMultiple)
    region = forms.ModelChoiceField(label=_("Délégation régionale"), queryset=None, required=False)
    is_national = forms.BooleanField(label=_("Portée nationale (siège)"), required=False,
                                     help_text=_("Sans délégation ni portée nationale, le compte ne voit rien."))
    job_title = forms.CharField(label=_("Fonction"), max_length=150, required=False)

    actor = None  # set by the admin: who is making the change

    class Meta:
        model = User
        fields = ["first_name", "last_name", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].queryset = Group.objects.filter(name__in=ROLES_BY_NAME).order_by("name")
        self.fields["roles"].help_text = " ".join(f"{role.name} : {role.description}" for role in ROLES)
        self.fields["region"].queryset = apps.get_model("adhesions", "Region").objects.all()
        if self.instance.pk:
            profile = StaffProfile.objects.filter(user=self.instance).first()
            self.initial.update(roles=list(self.instance.groups.all()), region=profile.region if profile else None,
                                is_national=bool(profile and profile.is_national),
                                job_title=profile.job_title if profile else "")

    def clean(self):
        cleaned = super().clean()
        try:  # the service's own checks, said on the form
            services._check_staff_manager(self.actor, target=self.instance if self.instance.pk else None)
            services._check_grant(self.actor, roles=cleaned.get("roles") or [], region=cleaned.get("region"),
                                  is_national=cleaned.get("is_national", False))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, exc.messages)
        return cleaned


class StaffAccountCreationForm(StaffAccountForm):
    email = forms.EmailField(label=_("Adresse e-mail"))
    password1 = forms.CharField(label=_("Mot de passe provisoire"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("Confirmation du mot de passe"), widget=forms.PasswordInput, strip=False)

    class Meta(StaffAccountForm.Meta):
        fields = ["email", "first_name", "last_name"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        return cleaned


@admin.register(User)
class UserAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """The staff's accounts. Superusers are made with createsuperuser; rights come from roles."""

    ordering = ("email",)
    list_display = ("email", "last_name", "first_name", "roles_display", "scope_display", "is_active", "last_login")
    list_filter = ("is_active", "groups")
    search_fields = ("email", "last_name", "first_name")
    list_select_related = ("staff_profile__region",)

    def region_filter(self, queryset, region_id):
        return queryset.filter(staff_profile__region_id=region_id, staff_profile__is_national=False)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_staff=True).prefetch_related("groups")

    def get_form(self, request, obj=None, **kwargs):
        form = StaffAccountCreationForm if obj is None else StaffAccountForm
        return type(form.__name__, (form,), {"actor": request.user})

    def get_fieldsets(self, request, obj=None):
        identity = ("email", "first_name", "last_name") if obj is None else ("first_name", "last_name")
        fieldsets = [(None, {"fields": identity}),
                     (_("Rôles et portée"), {"fields": ("roles", "region", "is_national", "job_title")})]
        fieldsets.append((_("Mot de passe provisoire"), {"fields": ("password1", "password2")}) if obj is None
                         else (_("Compte"), {"fields": ("is_active", "last_login", "date_joined")}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        return ("last_login", "date_joined") if obj is not None else ()

    @admin.display(description=_("rôles"))
    def roles_display(self, obj):
        return ", ".join(sorted(g.name for g in obj.groups.all())) or "—"

    @admin.display(description=_("portée"))
    def scope_display(self, obj):
        profile = getattr(obj, "staff_profile", None)
        if obj.is_superuser:
            return _("super-administrateur")
        if profile is None:
            return _("aucune")
        return _("nationale") if profile.is_national else (profile.region or _("aucune"))

    def has_delete_permission(self, request, obj=None):
        return False  # an account is deactivated, never deleted (its audit trail stays)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        common = {"roles": data["roles"], "region": data["region"], "is_national": data["is_national"],
                  "job_title": data["job_title"]}
        if change:
            services.update_staff_account(actor=request.user, user=obj, is_active=data["is_active"],
                                          first_name=data["first_name"], last_name=data["last_name"], **common)
        else:
            user = services.create_staff_account(actor=request.user, email=data["email"],
                                                 first_name=data["first_name"], last_name=data["last_name"],
                                                 password=data["password1"], **common)
            obj.pk = user.pk

    def save_related(self, request, form, formsets, change):
        pass  # the service set the roles


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The roles are written in accounts/roles.py and brought back to it at every migrate."""

    list_display = ("name", "rights")
    fields = ("name", "permissions")
    filter_horizontal = ("permissions",)

    @admin.display(description=_("droits"))
    def rights(self, obj):
        return obj.permissions.count()


@admin.register(StaffProfile)
class StaffProfileAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("user", "region", "is_national", "job_title")
    list_filter = ("region", "is_national")
    search_fields = ("user__email", "user__last_name")
    list_select_related = ("user", "region")
    region_lookup = "region"


# --- People: read in the admin, changed by their owners or the services -------------------------

class FamilyMemberInline(ReadOnlyAdminMixin, TabularInline):
    model = FamilyMember
    extra = 0
    fields = ("relation", "first_name", "last_name", "birth_date", "adoption_date", "is_dependent")


@admin.register(Agent)
class AgentAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    """Agents of the staff member's region; identity and bank details are kept by the agent
    himself (his space) or by the roster: read here, the IBAN masked."""

    list_display = ("last_name", "first_name", "birth_date", "status", "email")
    list_filter = ("status", "sex")
    search_fields = ("last_name", "first_name", "email", "employments__employee_number")
    inlines = [FamilyMemberInline]
    show_full_result_count = False
    fieldsets = (
        (_("Identité"), {"fields": ("last_name", "birth_name", "first_name", "sex", "birth_date", "status")}),
        (_("Coordonnées"), {"fields": ("email", "phone", "address", "postcode", "city")}),
        (_("Banque"), {"fields": ("iban_masked", "bic")}),
        (_("Compte"), {"fields": ("has_account", "created_at", "updated_at")}),
    )
    readonly_fields = ("iban_masked", "has_account", "created_at", "updated_at")

    def region_filter(self, queryset, region_id):
        return agents_of_region(queryset, region_id)

    @admin.display(description=_("IBAN"))
    def iban_masked(self, obj):
        return services.mask_iban(obj.iban) or "—"

    @admin.display(description=_("compte ouvert"), boolean=True)
    def has_account(self, obj):
        return obj.user_id is not None


@admin.register(FamilyMember)
class FamilyMemberAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    list_display = ("last_name", "first_name", "relation", "birth_date", "agent")
    list_filter = ("relation", "is_dependent")
    search_fields = ("last_name", "first_name", "agent__last_name")
    list_select_related = ("agent",)
    show_full_result_count = False

    def region_filter(self, queryset, region_id):
        return agents_of_region(queryset, region_id, agent_field="agent_id")


@admin.register(TaxDeclaration)
class TaxDeclarationAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, PrivateFileAdminMixin, AuditedModelAdmin):
    private_file_field = "notice"
    private_file_type = "application/pdf"
    exclude = ("notice",)
    readonly_fields = ("file_link",)
    list_display = ("agent", "year", "reference_income", "shares", "declared_at")
    list_filter = ("year",)
    search_fields = ("agent__last_name", "agent__first_name")
    list_select_related = ("agent",)

    def region_filter(self, queryset, region_id):
        return agents_of_region(queryset, region_id, agent_field="agent_id")


@admin.register(AuditEntry)
class AuditEntryAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The whole trail, every region's: national staff only (each object's page shows its own)."""

    national_only = True
    list_display = ("at", "actor", "action", "content_type", "object_repr", "reason")
    list_filter = ("action", "content_type", ("at", admin.DateFieldListFilter))
    search_fields = ("object_repr", "reason", "actor__email", "object_id")
    date_hierarchy = "at"
    list_select_related = ("actor", "content_type")


@admin.register(OutboxItem)
class OutboxItemAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The asynchronous work of every region (its arguments are ids): national staff only."""

    national_only = True
    list_display = ("id", "task", "state", "created_at", "attempts", "next_attempt_at", "completed_at")
    list_filter = ("task", ("completed_at", admin.EmptyFieldListFilter), ("failed_at", admin.EmptyFieldListFilter))
    search_fields = ("task", "dedupe_key", "last_error")
    date_hierarchy = "created_at"

    actions = ["retry"]

    @admin.display(description=_("état"))
    def state(self, obj):
        return obj.state

    def has_retry_permission(self, request):
        return request.user.has_perm("cnas.retry_outboxitem")

    @admin.action(description=_("Relancer les travaux abandonnés sélectionnés"), permissions=["retry"])
    def retry(self, request, queryset):
        count = outbox.retry(actor=request.user, item_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, ngettext("%(n)s travail relancé.", "%(n)s travaux relancés.", count) % {"n": count})


@admin.register(ExportJob)
class ExportJobAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """« Mes exports »: each staff member sees his own exports, and downloads them for seven days."""

    unscoped = "les exports de leur seul auteur"
    exportable = False
    list_display = ("title", "format", "status", "progress_display", "created_at", "download")
    list_filter = ("status", "format")
    readonly_fields = ("title", "format", "status", "progress_display", "written", "total", "query", "failure",
                       "created_at", "finished_at", "download")
    fields = readonly_fields
    change_form_template = "admin/cnas/exportjob/change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(author=request.user)  # nobody else's, superusers included

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff and (obj is None or obj.author_id == request.user.pk)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def get_urls(self):
        from django.urls import path

        return [path("<int:pk>/telecharger/", self.admin_site.admin_view(self.download_view),
                     name="cnas_exportjob_download"), *super().get_urls()]

    def download_view(self, request, pk):
        from django.http import Http404

        from cnas import background_exports, private_files

        job = background_exports.downloadable(user=request.user, job_id=pk)
        if job is None:
            raise Http404
        return private_files.serve(job.file, content_type=background_exports.CONTENT_TYPES[job.format],
                                   filename=job.file.name.rsplit("/", 1)[-1])

    @admin.display(description=_("avancement"))
    def progress_display(self, obj):
        return f"{obj.progress} %"

    @admin.display(description=_("fichier"))
    def download(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        if obj.status != ExportJob.Status.DONE:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("admin:cnas_exportjob_download", args=[obj.pk]),
                           _("Télécharger"))


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which page sent twice made what (kept two days): national staff only."""

    national_only = True
    list_display = ("created_at", "scope", "user", "content_type", "object_id")
    list_filter = ("scope",)
    search_fields = ("key", "user__email", "object_id")
    list_select_related = ("user", "content_type")


@admin.register(Heartbeat)
class HeartbeatAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    national_only = True
    list_display = ("name", "at")
