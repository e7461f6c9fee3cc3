from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import FamilyMember


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class FamilyMemberForm(forms.ModelForm):
    class Meta:
        model = FamilyMember
        fields = ["relation", "first_name", "last_name", "birth_date", "is_dependent"]
        widgets = {"birth_date": DateInput(attrs={"autocomplete": "off"})}

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

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("relation") == FamilyMember.Relation.SPOUSE:
            others = FamilyMember.objects.filter(agent=self.instance.agent,
                                                 relation=FamilyMember.Relation.SPOUSE)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error("relation", _("Votre foyer compte déjà un conjoint."))
        return cleaned
