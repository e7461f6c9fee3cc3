"""The portal's form renderer: every form of the portal, the allauth pages included, renders with
the same two templates, so that its errors are printed once and wired to their inputs.

``{{ form }}`` renders ``templates/forms/form.html`` (the form's own errors once, in an alert at
the top, then each field) and ``{{ field.as_field_group }}`` renders ``templates/forms/field.html``
(label, help text, the field's errors, the input). Django 5.2 already gives the input
``aria-invalid="true"`` when the field has errors and ``aria-describedby`` naming its help text
(``<id>_helptext``) and its error list (``<id>_error``, the id Django's error list template prints);
the field template prints both under exactly those ids.
"""

from django.forms.renderers import TemplatesSetting


class PortalFormRenderer(TemplatesSetting):
    """Form templates looked up like every other template (``templates/`` first), so that the
    project's templates replace Django's."""

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"
