from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cnas import audit, private_files
from cnas.models import AuditEntry

admin.site.site_header = _("CNAS — administration")
admin.site.site_title = _("CNAS — administration")
admin.site.index_title = _("Gestion de l'action sociale")


class AuditedModelAdmin(admin.ModelAdmin):
    """Writes every admin save and deletion to the audit trail, and shows the
    object's audit entries on its history page."""

    object_history_template = "admin/cnas/audited_history.html"

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
        extra_context = {**(extra_context or {}), "audit_entries": entries}
        return super().history_view(request, object_id, extra_context=extra_context)


class PrivateFileAdminMixin:
    """A download link for a private file, served after the admin's permission check."""

    private_file_field = ""

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [path("<int:pk>/fichier/", self.admin_site.admin_view(self.download), name="{}_{}_file".format(*info)),
                *super().get_urls()]

    def download(self, request, pk):
        obj = get_object_or_404(self.model, pk=pk)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        return private_files.serve(getattr(obj, self.private_file_field))

    @admin.display(description=_("fichier"))
    def file_link(self, obj):
        if not obj.pk or not getattr(obj, self.private_file_field):
            return "—"
        info = self.model._meta.app_label, self.model._meta.model_name
        return format_html('<a href="{}">{}</a>', reverse("admin:{}_{}_file".format(*info), args=[obj.pk]),
                           _("Télécharger"))


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "content_type", "object_repr", "reason")
    list_filter = ("action", "content_type", ("at", admin.DateFieldListFilter))
    search_fields = ("object_repr", "reason", "actor__email", "object_id")
    autocomplete_fields = ("actor",)
    date_hierarchy = "at"
    list_select_related = ("actor", "content_type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
