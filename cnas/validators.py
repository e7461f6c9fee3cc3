"""Identifiers validated on entry, through python-stdnum (checksums included)."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from stdnum import bic, iban
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret


def _check(module, value: str, message) -> str:
    try:
        return module.validate(value)
    except StdnumError as exc:
        raise ValidationError(message, code="invalid", params={"value": value}) from exc


def validate_siret(value: str) -> None:
    _check(siret, value, _("« %(value)s » n'est pas un numéro SIRET valide (14 chiffres, clé de contrôle)."))


def validate_siren(value: str) -> None:
    _check(siren, value, _("« %(value)s » n'est pas un numéro SIREN valide (9 chiffres, clé de contrôle)."))


def validate_iban(value: str) -> None:
    _check(iban, value, _("« %(value)s » n'est pas un IBAN valide."))


def validate_bic(value: str) -> None:
    _check(bic, value, _("« %(value)s » n'est pas un BIC valide."))


def compact_siret(value: str) -> str:
    return siret.compact(value)


def compact_iban(value: str) -> str:
    return iban.compact(value)


validate_french_postcode = RegexValidator(
    r"^(?:0[1-9]|[1-8]\d|9[0-8])\d{3}$",
    _("Saisissez un code postal français de 5 chiffres."),
    code="invalid_postcode",
)
