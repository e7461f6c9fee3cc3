"""Admin of payments, bank statements and reminders."""

from django import forms as django_forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from accounts.scope import RegionScopedAdmin
from adhesions import services
from adhesions.models import (
    BankStatement,
    Payment,
    Reminder,
)
from adhesions.statements import StatementError, read_statement
from cnas.admin import AuditedModelAdmin, PrivateFileAdminMixin, TabularInline


class PaymentInline(TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("paid_on", "amount", "means", "bank_reference", "recorded_by", "recorded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class PaymentForm(django_forms.ModelForm):
    class Meta:
        model = Payment
        fields = ["call", "amount", "paid_on", "means", "bank_reference"]


@admin.register(Payment)
class PaymentAdmin(RegionScopedAdmin, AuditedModelAdmin):
    """Payments are added, never edited: a correction is a negative payment."""

    form = PaymentForm
    list_display = ("call", "amount", "paid_on", "means", "bank_reference", "recorded_by", "recorded_at")
    list_filter = ("means", ("paid_on", admin.DateFieldListFilter))
    search_fields = ("call__reference", "call__adherent__name", "bank_reference")
    autocomplete_fields = ("call",)
    list_select_related = ("call", "recorded_by")
    region_lookup = "call__adherent__region"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        payment = services.record_payment(actor=request.user, call=data["call"], amount=data["amount"],
                                          paid_on=data["paid_on"], means=data["means"],
                                          bank_reference=data["bank_reference"])
        obj.pk = payment.pk


class BankStatementForm(django_forms.ModelForm):
    class Meta:
        model = BankStatement
        fields = ["file"]

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        try:
            read_statement(uploaded.read(), uploaded.name)
        except StatementError as exc:
            raise django_forms.ValidationError(str(exc)) from exc
        finally:
            uploaded.seek(0)
        return uploaded


@admin.register(BankStatement)
class BankStatementAdmin(RegionScopedAdmin, PrivateFileAdminMixin, AuditedModelAdmin):
    national_only = True  # a statement's lines concern adherents of every region
    private_file_field = "file"
    form = BankStatementForm
    list_display = ("original_name", "format", "uploaded_at", "uploaded_by", "line_count", "matched_count",
                    "already_count", "unmatched_count")
    readonly_fields = ("original_name", "format", "uploaded_by", "uploaded_at", "line_count", "matched_count",
                       "already_count", "unmatched_table", "file_link")

    def get_fields(self, request, obj=None):
        return ["file"] if obj is None else list(self.readonly_fields)

    @admin.display(description=_("non rapprochées"))
    def unmatched_count(self, obj):
        return len(obj.unmatched)

    @admin.display(description=_("lignes à traiter par l'équipe"))
    def unmatched_table(self, obj):
        if not obj.unmatched:
            return "—"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                ((u["date"], u["amount"], u["text"], u["reason"]) for u in obj.unmatched))
        return format_html("<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>"
                           "<tbody>{}</tbody></table>", _("date"), _("montant"), _("libellé"), _("motif"), rows)

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        statement = services.import_statement(actor=request.user, uploaded=form.cleaned_data["file"])
        obj.pk, obj.original_name = statement.pk, statement.original_name
        self.message_user(request, _("%(matched)s paiement(s) rapproché(s), %(left)s ligne(s) à traiter, "
                                     "%(already)s déjà enregistrée(s).") % {
            "matched": statement.matched_count, "left": len(statement.unmatched), "already": statement.already_count})


@admin.register(Reminder)
class ReminderAdmin(RegionScopedAdmin, AuditedModelAdmin):
    region_lookup = "call__adherent__region"
    list_display = ("call", "level", "balance", "sent_at")
    list_filter = ("level",)
    search_fields = ("call__reference", "call__adherent__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
