"""The SEPA credit transfer file (pain.001.001.03) of a payment batch, built and validated
against the official schema by sepaxml."""

from django.conf import settings
from sepaxml import SepaTransfer
from stdnum import iban as iban_number


def build_pain001(*, batch, demandes) -> bytes:
    body = settings.NATIONAL_BODY
    sepa = SepaTransfer({
        "name": body["name"], "IBAN": iban_number.compact(body["iban"]), "BIC": body["bic"],
        "batch": True, "currency": "EUR",
    }, clean=True)
    for demande in demandes:
        agent = demande.agent
        payment = {
            "name": f"{agent.first_name} {agent.last_name}"[:70],
            "IBAN": iban_number.compact(agent.iban),
            "amount": int((demande.amount_granted * 100).to_integral_value()),
            "execution_date": batch.execution_date,
            "description": f"{demande.prestation.name} - demande {demande.pk}"[:140],
            "endtoend_id": f"D{demande.pk}",
        }
        if agent.bic:
            payment["BIC"] = agent.bic
        sepa.add_payment(payment)
    batch.message_id = sepa.msg_id[:35]
    return sepa.export(validate=True)
