"""The staff roles (groups with the least rights each job needs), from accounts.roles."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from accounts.roles import sync_roles

    sync_roles(apps, strict=False)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_staff_scope_and_rights"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("cnas", "0002_rights"),
        ("adhesions", "0007_rights"),
        ("cos", "0001_initial"),
        ("prestations", "0004_batch_region"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
