"""The two wordings of the decision letters, so that staff find them in the admin to edit."""

from django.db import migrations


def create_wordings(apps, schema_editor):
    LetterWording = apps.get_model("prestations", "LetterWording")
    for kind in ("acceptance", "refusal"):
        LetterWording.objects.get_or_create(kind=kind)


class Migration(migrations.Migration):
    dependencies = [("prestations", "0009_letters")]
    operations = [migrations.RunPython(create_wordings, migrations.RunPython.noop)]
