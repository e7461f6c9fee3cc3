"""Pages outside the managers' space: joining, invitations, self-registration."""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited

from accounts.forms import DateInput
from accounts.models import Agent, User
from adhesions import services
from adhesions.models import AdherentCategory, AdherentKind, MembershipApplication
from cnas.forms import DateField
from cnas.idempotency import once
from cnas.private_files import check_upload
from cnas.validators import compact_siret, validate_siret

# --- Invitations ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    invitation = services.invitation_from_token(token)
    if invitation is None or invitation.accepted_at:
        return render(request, "adhesions/invitation_invalid.html", {"invitation": invitation}, status=410)
    context = {"invitation": invitation}
    if request.user.is_authenticated:
        if request.method == "POST":
            try:
                services.accept_invitation(user=request.user, invitation=invitation)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("accounts:overview")
            messages.success(request, _("Invitation acceptée."))
            return redirect("accounts:landing")
        return render(request, "adhesions/invitation_accept.html", context)
    if User.objects.filter(email__iexact=invitation.email).exists():
        context["must_login"] = True
        return render(request, "adhesions/invitation_accept.html", context)
    form = SetPasswordForm(User(email=invitation.email), request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.create_invited_user(invitation=invitation, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Votre compte est créé."))
            return redirect("accounts:landing")
    context["form"] = form
    return render(request, "adhesions/invitation_accept.html", context)


# --- Self-registration ----------------------------------------------------------------------

class AttachForm(forms.Form):
    siret = forms.CharField(label=gettext_lazy("SIRET de votre employeur"), max_length=20,
                            help_text=gettext_lazy("14 chiffres, sur votre bulletin de paie."))
    employee_number = forms.CharField(label=gettext_lazy("Votre matricule"), max_length=32,
                                      help_text=gettext_lazy("Sur votre bulletin de paie."))
    birth_date = DateField(label=gettext_lazy("Votre date de naissance"), widget=DateInput())

    def clean_siret(self):
        value = compact_siret(self.cleaned_data["siret"])
        validate_siret(value)
        return value


ATTACH_FAILED = gettext_lazy(
    "Ces informations ne correspondent à aucun dossier disponible. Vérifiez-les sur votre bulletin de paie, "
    "ou demandez à votre service des ressources humaines de vous inviter."
)


@login_required
@require_http_methods(["GET", "POST"])
def attach(request):
    if Agent.objects.filter(user=request.user).exists():
        messages.info(request, _("Votre compte est déjà rattaché à votre dossier d'agent."))
        return redirect("espace:home")
    form = AttachForm(request.POST or None)
    if request.method == "POST":
        # Counted before the form is even read: no way to try the roster faster than this.
        limited = (is_ratelimited(request, group="attach-agent", key="user", rate="5/h", increment=True)
                   or is_ratelimited(request, group="attach-agent-ip", key="ip", rate="20/h", increment=True))
        if limited:
            form.add_error(None, _("Trop de tentatives : réessayez dans une heure."))
        elif form.is_valid():
            agent = services.find_agent_to_attach(**form.cleaned_data)
            if agent is None:
                form.add_error(None, ATTACH_FAILED)
            else:
                try:
                    services.attach_agent(user=request.user, agent=agent)
                except ValidationError:
                    form.add_error(None, ATTACH_FAILED)
                else:
                    messages.success(request, _("Votre compte est rattaché à votre dossier d'agent."))
                    return redirect("espace:home")
    return render(request, "adhesions/attach.html", {"form": form})


# --- Joining --------------------------------------------------------------------------------

class ApplicationForm(forms.ModelForm):
    class Meta:
        model = MembershipApplication
        fields = ["name", "siret", "kind", "category", "address", "postcode", "city", "contact_first_name",
                  "contact_last_name", "contact_role", "contact_email", "contact_phone", "covers_retired",
                  "start_date", "deliberation"]
        widgets = {"start_date": DateInput(), "deliberation": forms.ClearableFileInput(attrs={"accept": ".pdf"})}
        help_texts = {
            "siret": gettext_lazy("14 chiffres (avis de situation SIRENE)."),
            "deliberation": gettext_lazy("La délibération de votre conseil ou assemblée, en PDF, 10 Mo au plus."),
            "start_date": gettext_lazy("Le premier jour d'un mois, de préférence."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "—"), *AdherentKind.choices]
        self.fields["category"].choices = [("", "—"), *AdherentCategory.choices]

    def clean_siret(self):
        value = compact_siret(self.cleaned_data["siret"])
        validate_siret(value)
        from adhesions.models import Adherent

        if Adherent.objects.filter(siret=value).exists():
            raise forms.ValidationError(_("Cette structure est déjà adhérente : adressez-vous à sa délégation."))
        if MembershipApplication.objects.filter(siret=value, status=MembershipApplication.Status.PENDING).exists():
            raise forms.ValidationError(_("Une demande d'adhésion est déjà en cours pour ce SIRET."))
        return value

    def clean_deliberation(self):
        uploaded = self.cleaned_data["deliberation"]
        try:
            check_upload(uploaded)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return uploaded

    def clean_start_date(self):
        value = self.cleaned_data["start_date"]
        if value < timezone.localdate().replace(day=1):
            raise forms.ValidationError(_("La date d'effet ne peut pas être passée."))
        return value

    def clean(self):
        cleaned = super().clean()
        kind, category = cleaned.get("kind"), cleaned.get("category")
        if kind and category and (kind == AdherentKind.COS) != (category == AdherentCategory.ASSOCIATION):
            self.add_error("category", _("Un COS est une association du personnel ; une collectivité ou un "
                                         "établissement public n'en est pas une."))
        return cleaned

    def structure_fields(self):
        return [self[name] for name in self.Meta.fields if not name.startswith("contact_")]

    def contact_fields(self):
        return [self[name] for name in self.Meta.fields if name.startswith("contact_")]


@require_http_methods(["GET", "POST"])
def apply_for_membership(request):
    form = ApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            once(request, scope="application.submit", create=lambda: services.submit_application(**form.cleaned_data))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return render(request, "adhesions/apply_done.html", {"email": form.cleaned_data["contact_email"]})
    return render(request, "adhesions/apply.html", {"form": form})
