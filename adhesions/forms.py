from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import DateInput
from accounts.models import Agent
from adhesions.models import Employment, PayrollDeclaration
from adhesions.services import MAX_ROSTER_FILE_SIZE
from cnas.forms import DateField, MoneyField


def not_in_future(value):
    if value and value > timezone.localdate():
        raise forms.ValidationError(_("Cette date est dans le futur."))
    return value


class RosterEntryForm(forms.Form):
    """An agent's identity and his employment, for adding or correcting a roster line."""

    employee_number = forms.CharField(label=_("Matricule"), max_length=32)
    last_name = forms.CharField(label=_("Nom"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    first_name = forms.CharField(label=_("Prénom"), max_length=150,
                                 widget=forms.TextInput(attrs={"autocomplete": "off"}))
    birth_name = forms.CharField(label=_("Nom de naissance"), max_length=150, required=False)
    sex = forms.ChoiceField(label=_("Sexe"), choices=[("", "—"), *Agent.Sex.choices], required=False)
    birth_date = DateField(label=_("Date de naissance"), widget=DateInput())
    start_date = DateField(label=_("Date d'entrée"), widget=DateInput())
    email = forms.EmailField(label=_("E-mail"), required=False,
                             help_text=_("Nécessaire pour inviter l'agent à ouvrir son compte."))
    phone = forms.CharField(label=_("Téléphone"), max_length=20, required=False)
    address = forms.CharField(label=_("Adresse"), max_length=255, required=False)
    postcode = forms.CharField(label=_("Code postal"), max_length=5, required=False)
    city = forms.CharField(label=_("Commune"), max_length=150, required=False)

    def clean_birth_date(self):
        return not_in_future(self.cleaned_data["birth_date"])

    def clean_start_date(self):
        return not_in_future(self.cleaned_data["start_date"])

    def clean(self):
        cleaned = super().clean()
        birth, start = cleaned.get("birth_date"), cleaned.get("start_date")
        if birth and start and start < birth:
            self.add_error("start_date", _("La date d'entrée précède la date de naissance."))
        return cleaned

    IDENTITY = ("last_name", "first_name", "birth_name", "sex", "birth_date", "email", "phone", "address",
                "postcode", "city")

    @classmethod
    def initial_for(cls, employment: Employment) -> dict:
        agent = employment.agent
        return {"employee_number": employment.employee_number, "start_date": employment.start_date,
                **{name: getattr(agent, name) for name in cls.IDENTITY}}

    def identity(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.IDENTITY}


class EndEmploymentForm(forms.Form):
    end_date = DateField(label=_("Date de sortie"), widget=DateInput(),
                               help_text=_("Dernier jour dans les effectifs."))
    reason = forms.ChoiceField(label=_("Motif"), choices=[("", "—")] + [
        c for c in Employment.EndReason.choices if c[0] != Employment.EndReason.OTHER])
    comment = forms.CharField(label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class RosterImportForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV ou XLSX"),
                           help_text=_("10 Mo au plus. Colonnes : matricule, nom, prénom, date de naissance, "
                                       "date d'entrée ; facultatives : e-mail, statut, date et motif de sortie…"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}))
    is_complete = forms.BooleanField(
        label=_("Ce fichier contient tout l'effectif"), required=False,
        help_text=_("Les agents en poste qui n'y figurent pas seront sortis de l'effectif (vous le verrez "
                    "dans l'aperçu avant de confirmer)."),
    )

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > MAX_ROSTER_FILE_SIZE:
            raise forms.ValidationError(_("Le fichier dépasse 10 Mo."))
        if uploaded.size == 0:
            raise forms.ValidationError(_("Le fichier est vide."))
        if not uploaded.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Type de fichier non accepté : déposez un fichier .csv ou .xlsx."))
        return uploaded


class InviteCorrespondentForm(forms.Form):
    email = forms.EmailField(label=_("E-mail du nouveau correspondant"))


class PayrollDeclarationForm(forms.ModelForm):
    gross_payroll = MoneyField(
        label=_("Masse salariale brute (€)"), min_value=0,
        help_text=_("Total des rémunérations brutes de l'année, en euros (par exemple 1 234 567,89)."))

    class Meta:
        model = PayrollDeclaration
        fields = ["year", "gross_payroll", "working_headcount", "retired_headcount"]

    def clean_year(self):
        year = self.cleaned_data["year"]
        current = timezone.localdate().year
        if year > current or year < current - 5:
            raise forms.ValidationError(_("Déclarez une des cinq dernières années (ou l'année en cours)."))
        return year

    def clean_gross_payroll(self):
        value = self.cleaned_data["gross_payroll"]
        if value is not None and value < 0:
            raise forms.ValidationError(_("La masse salariale ne peut pas être négative."))
        return value
