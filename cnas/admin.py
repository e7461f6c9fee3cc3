from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cnas import audit, history, private_files
from cnas.forms import DateField, MoneyField
from cnas.models import AuditEntry

admin.site.site_header = _("CNAS — administration")
admin.site.site_title = _("CNAS — administration")
admin.site.index_title = _("Gestion de l'action sociale")


FRENCH_AMOUNTS = {models.DecimalField: {"form_class": MoneyField}, models.DateField: {"form_class": DateField}}


class SafeAutocompleteMixin:
    """Django's autocomplete widget looks up the posted value to show it again: a value that is
    not an id ("NaN") must give a form error, not a 500."""

    def optgroups(self, name, value, attr=None):
        pk = self.field.remote_field.model._meta.pk
        kept = []
        for item in value:
            try:
                pk.to_python(item)
            except (ValidationError, ValueError, TypeError):
                continue
            kept.append(item)
        return super().optgroups(name, kept, attr)


class SafeAutocompleteSelect(SafeAutocompleteMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(SafeAutocompleteMixin, AutocompleteSelectMultiple):
    pass


def safe_autocomplete(formfield):
    widget = getattr(formfield, "widget", None)
    if isinstance(widget, AutocompleteSelectMultiple) and not isinstance(widget, SafeAutocompleteMixin):
        widget.__class__ = SafeAutocompleteSelectMultiple
    elif isinstance(widget, AutocompleteSelect) and not isinstance(widget, SafeAutocompleteMixin):
        widget.__class__ = SafeAutocompleteSelect
    return formfield


class ReadOnlyAdminMixin:
    """Shown to staff, changed only by the services that own it (never edited, added or deleted here)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class TabularInline(admin.TabularInline):
    """Inlines type amounts the French way too."""

    formfield_overrides = FRENCH_AMOUNTS


class StackedInline(admin.StackedInline):
    formfield_overrides = FRENCH_AMOUNTS


class AuditedModelAdmin(admin.ModelAdmin):
    """Writes every admin save and deletion to the audit trail, and shows the
    object's audit entries on its history page. Amounts are typed the French way."""

    object_history_template = "admin/cnas/audited_history.html"
    formfield_overrides = FRENCH_AMOUNTS
    exportable = True  # its list exports, with its filters, through the worker (cnas.background_exports)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("exporter/", self.admin_site.admin_view(self.export_view), name="{}_{}_export".format(*info)),
                *super().get_urls()]

    def export_view(self, request):
        """« Exporter » on a list: the worker writes it; the author finds it under « Mes exports »."""
        from cnas import background_exports

        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            job = background_exports.request_export(
                actor=request.user, model_label=self.model._meta.label, query=request.POST.get("query", ""),
                export_format=request.POST.get("format", ""))
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return redirect(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_changelist")
        self.message_user(request, _("L'export est en préparation : il sera prêt dans « Mes exports »."),
                          messages.SUCCESS)
        return redirect("admin:cnas_exportjob_change", job.pk)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return safe_autocomplete(super().formfield_for_foreignkey(db_field, request, **kwargs))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        return safe_autocomplete(super().formfield_for_manytomany(db_field, request, **kwargs))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.record(
            actor=request.user,
            action="admin.change" if change else "admin.create",
            target=obj,
            changes={"champs": list(form.changed_data)} if change else {},
        )

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action="admin.delete", target=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                audit.record(actor=request.user, action="admin.delete", target=obj)
            super().delete_queryset(request, queryset)

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        entries = AuditEntry.objects.for_object(obj).select_related("actor") if obj else []
        extra_context = {**(extra_context or {}), "audit_entries": entries,
                         "field_changes": history.field_changes(obj) if obj else []}
        return super().history_view(request, object_id, extra_context=extra_context)


class PrivateFileAdminMixin:
    """A download link for a private file, served after the admin's permission check."""

    private_file_field = ""
    private_file_type = "application/octet-stream"  # the type it was checked to be, when stored

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("<int:pk>/fichier/", self.admin_site.admin_view(self.download), name="{}_{}_file".format(*info)),
                *super().get_urls()]

    def download(self, request, pk):
        obj = get_object_or_404(self.get_queryset(request), pk=pk)  # outside the staff's scope: 404
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        inline = self.private_file_type in private_files.INLINE_TYPES
        return private_files.serve(getattr(obj, self.private_file_field), content_type=self.private_file_type,
                                   inline=inline)

    @admin.display(description=_("fichier"))
    def file_link(self, obj):
        if not obj.pk or not getattr(obj, self.private_file_field):
            return "—"
        info = self.model._meta.app_label, self.model._meta.model_name
        return format_html('<a href="{}">{}</a>', reverse("admin:{}_{}_file".format(*info), args=[obj.pk]),
                           _("Télécharger"))


@dataclass(frozen=True)
class ObjectAction:
    """A change of state of one object, made from its admin page through a small form that
    calls the service: the admin never edits what a service owns by hand."""

    name: str  # in the URL: <pk>/actions/<name>/
    label: str
    form_class: type[forms.Form]
    run: Callable  # run(request, obj, **cleaned_data) -> the message said to the staff member
    permission: str = "change"  # "change", or an "app_label.codename" the user must hold
    is_available: Callable = field(default=lambda obj: True)
    initial: Callable = field(default=lambda obj: {})
    help_text: str = ""
    form_kwargs: Callable = field(default=lambda request, obj: {})  # e.g. choices within the staff's scope


class ObjectActionsMixin:
    """Buttons on an object's admin page, each opening the form of one ObjectAction."""

    object_actions: tuple[ObjectAction, ...] = ()
    change_form_template = "admin/cnas/change_form.html"
    read_only_page = False  # the page shows the object; only its actions change it (no save buttons)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("<path:object_id>/actions/<slug:name>/", self.admin_site.admin_view(self.object_action_view),
                     name="{}_{}_object_action".format(*info)), *super().get_urls()]

    def has_object_action_permission(self, request, action: ObjectAction, obj) -> bool:
        if action.permission == "change":
            return self.has_change_permission(request, obj)
        return request.user.has_perm(action.permission)

    def available_object_actions(self, request, obj) -> list[ObjectAction]:
        return [a for a in self.object_actions
                if a.is_available(obj) and self.has_object_action_permission(request, a, obj)]

    def object_action_view(self, request, object_id, name):
        obj = self.get_object(request, admin.utils.unquote(object_id))
        action = next((a for a in self.object_actions if a.name == name), None)
        if obj is None or action is None:
            raise Http404
        if not self.has_object_action_permission(request, action, obj):
            raise PermissionDenied
        change_url = reverse(f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_change",
                             args=[obj.pk])
        if not action.is_available(obj):
            self.message_user(request, _("Cette action n'est plus possible pour cet objet."), messages.WARNING)
            return redirect(change_url)
        data = request.POST if request.method == "POST" else None
        form = action.form_class(data, initial=action.initial(obj), **action.form_kwargs(request, obj))
        if request.method == "POST" and form.is_valid():
            try:
                done = action.run(request, obj, **form.cleaned_data)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for key, errors in exc.message_dict.items():
                        form.add_error(key if key in form.fields else None, errors)
                else:
                    form.add_error(None, exc.messages)
            else:
                self.message_user(request, done, messages.SUCCESS)
                return redirect(change_url)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": obj,
                   "title": action.label, "subtitle": str(obj), "action": action, "form": form,
                   "media": self.media + form.media, "change_url": change_url}
        return TemplateResponse(request, "admin/cnas/object_action.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, admin.utils.unquote(object_id)) if object_id else None
        extra = {"object_actions": self.available_object_actions(request, obj) if obj is not None else []}
        if obj is not None and self.read_only_page:
            extra.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False,
                         show_delete_link=False)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})




# --- Celery beat's schedules --------------------------------------------------------------------------

def _register_beat_admins() -> None:
    """django_celery_beat's crontab page shows the schedule « en clair » by parsing the fields of the form
    being edited: a hostile value there (« -inf ») made the page answer 500 instead of the form's own
    errors. The same page, its reading made safe."""
    from celery.schedules import crontab_parser
    from django_celery_beat import admin as beat_admin
    from django_celery_beat.models import CrontabSchedule

    class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
        list_display = ("__str__", "readable")
        fields = ("readable", "minute", "hour", "day_of_month", "month_of_year", "day_of_week", "timezone")
        readonly_fields = ("readable",)

        @admin.display(description=_("en clair"))
        def readable(self, obj):
            try:
                return obj.human_readable
            except (ValueError, crontab_parser.ParseException):
                return _("expression invalide : corrigez les champs ci-dessous")

    if admin.site.is_registered(CrontabSchedule):
        admin.site.unregister(CrontabSchedule)
    admin.site.register(CrontabSchedule, CrontabScheduleAdmin)


_register_beat_admins()
