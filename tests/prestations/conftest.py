import datetime
from decimal import Decimal

import pytest

from cnas.pdf import blank_pdf
from prestations.models import Bracket, DocumentKind, Prestation

TODAY = datetime.date.today()


def kind(label: str) -> DocumentKind:
    from django.utils.text import slugify

    return DocumentKind.objects.get_or_create(label=label, defaults={"code": slugify(label)[:40]})[0]


def prestation(*, documents: list[str] = (), **kwargs) -> Prestation:
    """A prestation as staff write it in the catalogue (admin), with the kinds of documents it requires."""
    values = {"code": "aide", "name": "Aide", "category": "aid", "description": "Une aide.",
              "amount_rule": "fixed", "fixed_amount": Decimal("230.00"), "valid_from": datetime.date(2020, 1, 1),
              **kwargs}
    created = Prestation.objects.create(**values)
    created.required_documents.set([kind(label) for label in documents])
    return created


@pytest.fixture
def birth_aid(db):
    return prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12,
                      child_max_age=17, documents=["Acte de naissance"])


@pytest.fixture
def school_aid(db):
    aid = prestation(code="rentree", name="Aide à la rentrée", event="school_year", amount_rule="brackets",
                     fixed_amount=None, time_limit=4, child_min_age=3, child_max_age=18)
    Bracket.objects.bulk_create([Bracket(prestation=aid, qf_max=Decimal("600"), amount=Decimal("150")),
                                 Bracket(prestation=aid, qf_max=Decimal("1200"), amount=Decimal("80")),
                                 Bracket(prestation=aid, qf_max=None, amount=Decimal("50"))])
    return aid


@pytest.fixture
def relief(db):
    return prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                      share_percent=Decimal("50"), share_ceiling=Decimal("1500.00"),
                      yearly_ceiling=Decimal("1500.00"), once_per_event=False)


PDF = blank_pdf()
IBAN = "FR7630006000011234567890189"


def submitted(agent, prestation, *, child=None, event_date=None, expense=None, at=None):
    """A request made as the agent makes it: draft, each required document, IBAN, sent (and
    attested by the employer when the prestation asks for it). ``at``: when it was sent."""
    import contextlib

    import time_machine
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts import services as account_services
    from prestations import services

    clock = time_machine.travel(at, tick=False) if at is not None else contextlib.nullcontext()
    with clock:
        if not agent.iban:
            account_services.update_bank_details(actor=None, agent=agent, iban=IBAN, bic="")
        demande = services.save_draft(actor=None, agent=agent, prestation=prestation, child=child,
                                      event_date=event_date, expense=expense)
        for required in prestation.required_documents.all():
            services.add_document(actor=None, demande=demande, kind=required,
                                  uploaded=SimpleUploadedFile("piece.pdf", PDF))
        demande = services.submit(actor=None, demande=demande)
        if demande.status == demande.Status.AWAITING_ATTESTATION:
            demande = services.attest(actor=None, demande=demande)
    return demande


def granted(agent, prestation, *, amount=None, reason="", decided_at=None, **request):
    """A request sent, then accepted by an instructor (at the rule's amount unless ``amount``)."""
    import contextlib

    import time_machine

    from prestations import services

    demande = submitted(agent, prestation, at=request.pop("at", None), **request)
    clock = time_machine.travel(decided_at, tick=False) if decided_at is not None else contextlib.nullcontext()
    with clock:
        return services.accept(actor=None, demande=demande, amount=amount,
                               reason=reason or ("Montant revu" if amount is not None else ""))
