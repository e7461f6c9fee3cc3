"""Messages written from the contact page: read by the staff of their delegation, never edited here."""

from django.contrib import admin
from django.http import Http404

from accounts.scope import RegionScopedAdmin
from adhesions.models import ContactMessage
from cnas.admin import AuditedModelAdmin, ReadOnlyAdminMixin


@admin.register(ContactMessage)
class ContactMessageAdmin(RegionScopedAdmin, ReadOnlyAdminMixin, AuditedModelAdmin):
    region_lookup = "region"
    list_display = ("created_at", "region", "subject", "sender_name", "sender_email", "demande_number")
    list_filter = ("subject", "region", ("created_at", admin.DateFieldListFilter))
    search_fields = ("sender_name", "sender_email", "demande_number", "body")
    list_select_related = ("region",)
    date_hierarchy = "created_at"
    fields = ("created_at", "region", "sent_to", "sender_name", "sender_email", "sender", "subject", "demande_number",
              "body")
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # a message of another delegation does not exist for this staff member (not even a redirect)
        if self.get_object(request, admin.utils.unquote(object_id)) is None:
            raise Http404
        return super().change_view(request, object_id, form_url, extra_context)
