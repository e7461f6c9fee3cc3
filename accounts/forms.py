from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import FamilyMember
from cnas.forms import DateField, FrenchDecimalField, MoneyField


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class FamilyMemberForm(forms.ModelForm):
    class Meta:
        model = FamilyMember
        fields = ["relation", "first_name", "last_name", "birth_date", "adoption_date", "is_dependent"]
        widgets = {"birth_date": DateInput(attrs={"autocomplete": "off"}),
                   "adoption_date": DateInput(attrs={"autocomplete": "off"})}
        field_classes = {"birth_date": DateField, "adoption_date": DateField}

    def __init__(self, *args, agent, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.agent = agent
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("La date de naissance ne peut pas être dans le futur."))
        return value

    def clean_adoption_date(self):
        value = self.cleaned_data.get("adoption_date")
        if value and value > timezone.localdate():
            raise forms.ValidationError(_("La date d'arrivée au foyer ne peut pas être dans le futur."))
        return value

    def clean(self):
        cleaned = super().clean()
        birth, adoption = cleaned.get("birth_date"), cleaned.get("adoption_date")
        if adoption and cleaned.get("relation") != FamilyMember.Relation.CHILD:
            self.add_error("adoption_date", _("La date d'arrivée au foyer ne concerne qu'un enfant adopté."))
        elif adoption and birth and adoption < birth:
            self.add_error("adoption_date", _("L'arrivée au foyer ne peut pas précéder la naissance."))
        if cleaned.get("relation") == FamilyMember.Relation.SPOUSE:
            others = FamilyMember.objects.filter(agent=self.instance.agent,
                                                 relation=FamilyMember.Relation.SPOUSE)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("relation", _("Votre foyer compte déjà un conjoint."))
        return cleaned


class BankDetailsForm(forms.Form):
    iban = forms.CharField(label=_("IBAN"), max_length=42, widget=forms.TextInput(attrs={"autocomplete": "off",
                                                                                         "spellcheck": "false"}))
    bic = forms.CharField(label=_("BIC"), max_length=11, required=False)

    def clean_iban(self):
        from django.core.exceptions import ValidationError

        from cnas.validators import compact_iban, validate_iban

        value = compact_iban(self.cleaned_data["iban"])
        try:
            validate_iban(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return value

    def clean_bic(self):
        from cnas.validators import validate_bic

        value = self.cleaned_data["bic"].replace(" ", "").upper()
        if value:
            validate_bic(value)
        return value


class TaxDeclarationForm(forms.Form):
    year = forms.IntegerField(label=_("Année des revenus"))
    reference_income = MoneyField(label=_("Revenu fiscal de référence (€)"), min_value=0)
    shares = FrenchDecimalField(label=_("Nombre de parts"), min_value=1, max_value=20, max_digits=4,
                                decimal_places=2)
    notice = forms.FileField(label=_("Avis d'imposition (PDF)"), widget=forms.ClearableFileInput(
        attrs={"accept": ".pdf,application/pdf"}))

    def clean_year(self):
        year = self.cleaned_data["year"]
        current = timezone.localdate().year
        if not current - 2 <= year <= current - 1:
            raise forms.ValidationError(_("Déclarez les revenus de %(a)s ou %(b)s.") % {"a": current - 2,
                                                                                        "b": current - 1})
        return year

    def clean_notice(self):
        from django.core.exceptions import ValidationError

        from cnas.private_files import check_upload

        notice = self.cleaned_data["notice"]
        try:
            check_upload(notice)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return notice
