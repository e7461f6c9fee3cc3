"""The contact page (/contact/): the regional delegation of the person logged in — address, phone,
e-mail, opening hours — and a form that writes to it; every delegation for a visitor."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from adhesions import services
from adhesions.models import ContactMessage, Region
from adhesions.selectors import delegation_of
from adhesions.views._common import _form_errors_from
from cnas.idempotency import once


class ContactForm(forms.Form):
    subject = forms.ChoiceField(
        label=gettext_lazy("Objet"), choices=[("", gettext_lazy("— Choisissez —")), *ContactMessage.Subject.choices],
        error_messages={"required": gettext_lazy("Choisissez l'objet de votre message."),
                        "invalid_choice": gettext_lazy("Choisissez l'objet de votre message dans la liste.")})
    demande_number = forms.CharField(
        label=gettext_lazy("Numéro de la demande (facultatif)"), required=False, max_length=12,
        help_text=gettext_lazy("Il figure en haut de la page de la demande : « Demande n° 1234 »."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"max_length": gettext_lazy("Le numéro de demande compte 12 chiffres au plus.")})
    body = forms.CharField(
        label=gettext_lazy("Votre message"), max_length=ContactMessage.MAX_BODY,
        help_text=format_lazy(gettext_lazy("{max} caractères au plus. La délégation vous répond par e-mail."),
                              max=f"{ContactMessage.MAX_BODY:,}".replace(",", "\u202f")),
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": gettext_lazy("Écrivez votre message."),
                        "max_length": gettext_lazy("Votre message est trop long : %(limit_value)s caractères au "
                                                   "plus (il en compte %(show_value)s).")})

    def clean_demande_number(self):
        value = self.cleaned_data["demande_number"].strip().removeprefix("n°").strip()
        if value and not (value.isascii() and value.isdigit()):
            raise forms.ValidationError(_("Le numéro de demande ne compte que des chiffres (par exemple 1234)."))
        return value


@require_http_methods(["GET", "POST"])
def contact(request):
    region = delegation_of(request.user)
    form = None
    if region is not None and region.email:
        form = ContactForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                once(request, scope="contact.send", create=lambda: services.send_contact_message(
                    user=request.user, **form.cleaned_data))
            except ValidationError as exc:
                _form_errors_from(exc, form)
            else:
                messages.success(request, _("Votre message est envoyé à la délégation %(name)s. Elle vous répondra "
                                            "à votre adresse %(email)s.") % {"name": region.name,
                                                                             "email": request.user.email})
                return redirect("contact")
    elif request.method == "POST":  # no form was shown: nobody to write to
        messages.error(request, _("Connectez-vous pour écrire à votre délégation.") if not request.user.is_authenticated
                       else _("Votre compte n'est rattaché à aucune délégation qui reçoive des messages : "
                              "appelez-la ou écrivez-lui par courrier."))
        return redirect("contact")
    context = {"region": region, "form": form}
    if region is None:
        context["regions"] = Region.objects.order_by("name")
    return render(request, "adhesions/contact.html", context)
