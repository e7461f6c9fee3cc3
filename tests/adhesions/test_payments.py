"""Payments from bank statements (CSV, CAMT.053), reminders, arrears and the agents' right to order."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from adhesions import services
from adhesions.models import BankStatement, ContributionCall, Payment, Reminder
from adhesions.selectors import entitlement_on
from adhesions.statements import StatementError, read_statement
from tests import factories, world
from tests.conftest import enroll_totp

pytestmark = pytest.mark.django_db
D = datetime.date


def campaign(year: int, django_capture_on_commit_callbacks, **scale):
    """The year's campaign as staff run it: 1,000 € per working agent, one agent per commune."""
    with django_capture_on_commit_callbacks(execute=True):
        services.run_campaign_now(actor=None, scale=world.scale(year, employer_mode="per_agent",
                                                                 flat_per_agent=Decimal("1000"), cos_per_agent=0,
                                                                 grace_days=60, **scale),
                                  issued_on=D(year, 1, 15))
    return {c.adherent_id: c for c in ContributionCall.objects.filter(year=year, adherent__kind="collectivity")}


@pytest.fixture
def calls(tenant_a, tenant_b, django_capture_on_commit_callbacks):
    made = campaign(2027, django_capture_on_commit_callbacks)
    assert [c.amount for c in made.values()] == [Decimal("1000.00")] * 2
    assert {c.due_date for c in made.values()} == {D(2027, 3, 31)}
    return made


def csv_statement(*lines, name="releve.csv"):
    text = "Date;Libellé;Montant\n" + "\n".join(lines) + "\n"
    return SimpleUploadedFile(name, text.encode("cp1252"))


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt><GrpHdr><MsgId>REL-1</MsgId><CreDtTm>2027-04-02T08:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S1</Id>
   <Ntry><NtryRef>E1</NtryRef><Amt Ccy="EUR">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2027-04-01</Dt></BookgDt><ValDt><Dt>2027-04-01</Dt></ValDt><AcctSvcrRef>BANK-0001</AcctSvcrRef>
    <NtryDtls><TxDtls><RmtInf><Ustrd>MANDAT 123 COTISATION {ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">42.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2027-04-01</Dt></BookgDt><AcctSvcrRef>BANK-0002</AcctSvcrRef>
    <NtryDtls><TxDtls><RmtInf><Ustrd>DON SANS REFERENCE</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
   <Ntry><Amt Ccy="EUR">15.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2027-04-01</Dt></BookgDt><AcctSvcrRef>BANK-0003</AcctSvcrRef></Ntry>
  </Stmt></BkToCstmrStmt></Document>"""


def test_csv_statement_matches_by_reference_and_partial_payments_leave_a_balance(calls, tenant_a, tenant_b):
    a, b = calls[tenant_a.employer.pk], calls[tenant_b.employer.pk]
    upload = csv_statement(f"02/04/2027;VIR COMMUNE A REF {a.reference};1 000,00",
                           f"03/04/2027;virement {b.reference.lower()} acompte;400,00",
                           "03/04/2027;VIR INCONNU C2027-999999;12,00",
                           "04/04/2027;VIR SANS REFERENCE;50,00")
    statement = services.import_statement(actor=None, uploaded=upload)
    assert (statement.format, statement.line_count, statement.matched_count) == ("csv", 4, 2)
    assert [u["reason"] for u in statement.unmatched] == ["référence inconnue", "référence absente du libellé"]
    balances = dict(ContributionCall.objects.filter(adherent__kind="collectivity").with_balance()
                    .values_list("reference", "balance"))
    assert balances == {a.reference: Decimal("0.00"), b.reference: Decimal("600.00")}
    # the same statement again records nothing twice
    again = services.import_statement(actor=None, uploaded=csv_statement(
        f"02/04/2027;VIR COMMUNE A REF {a.reference};1 000,00",
        f"03/04/2027;virement {b.reference.lower()} acompte;400,00",
        "03/04/2027;VIR INCONNU C2027-999999;12,00", "04/04/2027;VIR SANS REFERENCE;50,00"))
    assert again.matched_count == 0 and again.already_count == 2
    assert Payment.objects.count() == 2


def test_camt053_statement(calls, tenant_a):
    call = calls[tenant_a.employer.pk]
    upload = SimpleUploadedFile("releve.xml", CAMT.format(ref=call.reference).encode())
    statement = services.import_statement(actor=None, uploaded=upload)
    assert (statement.format, statement.line_count, statement.matched_count) == ("camt053", 3, 1)
    payment = Payment.objects.get()
    assert payment.statement_line == "BANK-0001" and payment.paid_on == D(2027, 4, 1)
    assert sorted(u["reason"] for u in statement.unmatched) == ["débit", "référence absente du libellé"]


BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&lol2;</Document>"""


@pytest.mark.parametrize("content, name, message", [
    (b"", "releve.csv", "vide"),
    (b"\x00\x01binary\x02", "releve.csv", "Format non reconnu"),
    (b"%PDF-1.4", "releve.pdf", "Format non reconnu"),
    (b"<Document><unclosed>", "releve.xml", "illisible"),
    (BOMB, "releve.xml", "dangereux"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "releve.xml", "pas un relevé CAMT"),
    (b"Date;Montant\n01/04/2027;12,00\n", "releve.csv", "date, montant et libellé"),
    (b"Date;Libelle;Montant\n31/02/2027;VIR;12,00\n01/04/2027;VIR;douze\n", "releve.csv",
     r"Lignes illisibles \(date ou montant\) : 2, 3"),
])
def test_bad_statement_files(content, name, message):
    with pytest.raises(StatementError, match=message):
        read_statement(content, name)


def test_bad_statement_in_the_admin_records_nothing(client, calls):
    client.force_login(enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True)))
    response = client.post(reverse("admin:adhesions_bankstatement_add"),
                           {"file": SimpleUploadedFile("releve.xml", b"<Document><unclosed>")})
    assert response.status_code == 200 and "illisible" in response.content.decode()
    assert not BankStatement.objects.exists() and not Payment.objects.exists()


def test_statement_import_in_the_admin(client, calls, tenant_a):
    client.force_login(enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True)))
    call = calls[tenant_a.employer.pk]
    response = client.post(reverse("admin:adhesions_bankstatement_add"),
                           {"file": csv_statement(f"02/04/2027;REF {call.reference};1000,00", "02/04/2027;??;5,00")},
                           follow=True)
    assert "1 paiement(s) rapproché(s), 1 ligne(s) à traiter" in response.content.decode()
    statement = BankStatement.objects.get()
    page = client.get(reverse("admin:adhesions_bankstatement_change", args=[statement.pk])).content.decode()
    assert "référence absente du libellé" in page


def test_payment_recorded_in_the_admin(client, calls, tenant_a):
    client.force_login(enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True)))
    call = calls[tenant_a.employer.pk]
    response = client.post(reverse("admin:adhesions_payment_add"), {
        "call": call.pk, "amount": "250.00", "paid_on": "2027-04-10", "means": "cheque", "bank_reference": "CHQ 1"})
    assert response.status_code == 302
    assert ContributionCall.objects.with_balance().get(pk=call.pk).balance == Decimal("750.00")


def test_reminders_at_15_and_30_days_once_each(calls, tenant_a, tenant_b, django_capture_on_commit_callbacks):
    services.record_payment(actor=None, call=calls[tenant_b.employer.pk], amount=Decimal("1000"),
                            paid_on=D(2027, 3, 30))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders(today=D(2027, 4, 14)) == 0
        assert services.send_reminders(today=D(2027, 4, 15)) == 1
        assert services.send_reminders(today=D(2027, 4, 16)) == 0
    assert len(mail.outbox) == 1 and tenant_a.correspondent.email in mail.outbox[0].to
    assert "Relance" in mail.outbox[0].subject and "1\u202f000,00" in mail.outbox[0].body
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_reminders(today=D(2027, 5, 1)) == 1
        assert services.send_reminders(today=D(2027, 5, 2)) == 0
    assert "Seconde relance" in mail.outbox[1].subject
    assert list(Reminder.objects.values_list("level", flat=True).order_by("level")) == [1, 2]


def test_arrears_block_new_requests_with_the_reason(client, calls, tenant_a, tenant_b):
    call = calls[tenant_a.employer.pk]
    # within the grace period: still allowed
    assert entitlement_on(agent=tenant_a.agent, day=D(2027, 5, 30)).may_order
    late = entitlement_on(agent=tenant_a.agent, day=D(2027, 5, 31))
    assert not late.may_order and late.covered
    assert late.reason == ("Votre collectivité n'est pas à jour de sa cotisation 2027 : les nouvelles demandes "
                           "sont suspendues jusqu'à son règlement.")
    services.record_payment(actor=None, call=call, amount=Decimal("999.99"), paid_on=D(2027, 6, 1))
    assert not entitlement_on(agent=tenant_a.agent, day=D(2027, 6, 2)).may_order  # 1 cent left
    services.record_payment(actor=None, call=call, amount=Decimal("0.01"), paid_on=D(2027, 6, 2))
    assert entitlement_on(agent=tenant_a.agent, day=D(2027, 6, 2)).may_order


def test_agent_covered_by_an_up_to_date_cos_may_still_order(calls, tenant_a):
    world.serve(tenant_a.cos, tenant_a.employer)
    member = world.join_cos(tenant_a.cos, tenant_a.agent, D(2020, 1, 1))
    with time_machine.travel(datetime.datetime(2027, 1, 10, 12, tzinfo=datetime.UTC), tick=False):
        world.pay_fee(member, 2027, paid_on=D(2027, 1, 10))
    result = entitlement_on(agent=tenant_a.agent, day=D(2027, 6, 1))
    assert result.may_order and result.coverage.adherent == tenant_a.cos


def test_agent_home_and_correspondent_page_say_why(client, tenant_a, django_capture_on_commit_callbacks):
    campaign(2025, django_capture_on_commit_callbacks)  # never paid, long past its grace period
    client.force_login(tenant_a.agent_user)
    page = client.get(reverse("espace:home")).content.decode()
    assert "Demandes suspendues" in page and "cotisation 2025" in page
    client.force_login(tenant_a.correspondent)
    page = client.get(reverse("collectivite:contributions", args=[tenant_a.employer.pk])).content.decode()
    assert "au-delà du délai de grâce" in page
