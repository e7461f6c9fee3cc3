from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services as account_services
from accounts.access import agent_required
from accounts.forms import BankDetailsForm, DateInput, TaxDeclarationForm
from accounts.models import FamilyMember, TaxDeclaration
from adhesions import selectors
from cnas import private_files
from cnas.forms import DateField, MoneyField, ShortListChoiceField
from cnas.idempotency import once
from prestations import letters, services
from prestations.eligibility import evaluate, facts_of
from prestations.loans.forms import LoanSimulationForm
from prestations.models import Demande, DemandeEvent, Prestation


@agent_required
def home(request):
    agent = request.agent
    today = timezone.localdate()
    entitlement = selectors.entitlement_on(agent=agent, day=today)
    context = {
        "agent": agent,
        "employments": agent.employments.on(today).select_related("employer"),
        "household": agent.household.all(),
        "entitlement": entitlement,
        "coverage": entitlement.coverage,
        "demandes": agent.demandes.select_related("prestation").exclude(status=Demande.Status.WITHDRAWN)[:5],
        "today": today,
    }
    return render(request, "prestations/home.html", context)


# --- Catalogue ------------------------------------------------------------------------------

@agent_required
@require_GET
def catalogue(request):
    today = timezone.localdate()
    prestations = Prestation.objects.offered_on(today).prefetch_related("brackets")
    facts = facts_of(request.agent, on=today)  # read once for the whole catalogue
    rows = [(p, evaluate(agent=request.agent, prestation=p, on=today, facts=facts)) for p in prestations]
    return render(request, "prestations/catalogue.html", {"rows": rows, "today": today})


class SimulationForm(forms.Form):
    child = ShortListChoiceField(label=gettext_lazy("Enfant concerné"), queryset=FamilyMember.objects.none(),
                                   required=False, empty_label="—")
    event_date = DateField(label=gettext_lazy("Date de l'événement"), required=False, widget=DateInput())
    expense = MoneyField(label=gettext_lazy("Montant de la dépense (€)"), required=False, min_value=Decimal("0.01"))

    def __init__(self, *args, agent, prestation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = agent.household.filter(relation=FamilyMember.Relation.CHILD)
        if not prestation.concerns_a_child:
            del self.fields["child"]
        if prestation.event in ("none", "birth", "school_year"):
            del self.fields["event_date"]
        if prestation.amount_rule != "share":
            del self.fields["expense"]


@agent_required
@require_http_methods(["GET", "POST"])
def prestation_detail(request, code: str):
    today = timezone.localdate()
    prestation = get_object_or_404(Prestation.objects.offered_on(today).select_related("delays", "loan_product")
                                   .prefetch_related("brackets"), code=code)
    form = SimulationForm(request.GET or request.POST or None, agent=request.agent, prestation=prestation)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    verdict = evaluate(agent=request.agent, prestation=prestation, on=today, child=data.get("child"),
                       event_date=data.get("event_date"), expense=data.get("expense"))
    product = getattr(prestation, "loan_product", None)
    loan_form = LoanSimulationForm(request.GET or None, product=product) if product is not None else None
    schedule = loan_form.schedule if loan_form is not None and loan_form.is_bound and loan_form.is_valid() else None
    if request.method == "POST" and product is not None:  # the simulator only, for now (no button to post)
        messages.error(request, _("La demande de prêt en ligne n'est pas encore ouverte : la simulation est "
                                  "indicative."))
    elif request.method == "POST" and form.is_valid():
        try:
            demande = once(request, scope="demande.draft",
                           create=lambda: services.save_draft(actor=request.user,
                                                              agent=request.agent, prestation=prestation,
                                                              **data))[0]
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Votre demande est enregistrée en brouillon : joignez les pièces puis "
                                        "envoyez-la."))
            return redirect("espace:demande", pk=demande.pk)
    return render(request, "prestations/prestation.html", {
        "prestation": prestation, "form": form, "verdict": verdict,
        "delays": getattr(prestation, "delays", None),  # kept by the worker (indicators.refresh_delays)
        "brackets": prestation.brackets.all(), "loan_form": loan_form, "schedule": schedule, "product": product,
    })


# --- Requests -------------------------------------------------------------------------------

def get_own_demande_or_404(request, pk: int) -> Demande:
    return get_object_or_404(Demande.objects.select_related("prestation", "child", "agent"), pk=pk,
                             agent=request.agent)


@agent_required
@require_GET
def demandes(request):
    rows = request.agent.demandes.select_related("prestation").order_by("-created_at")
    return render(request, "prestations/demandes.html", {"demandes": rows})


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Pièce"))
    file = forms.FileField(label=gettext_lazy("Fichier (PDF, JPEG ou PNG, 10 Mo au plus)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}))

    OTHER = "autre"

    def __init__(self, *args, prestation, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = {str(kind.pk): kind for kind in prestation.required_documents.all()}
        self.fields["kind"].choices = [*((pk, kind.label) for pk, kind in self.kinds.items()),
                                       (self.OTHER, _("Autre pièce (complément)"))]

    def service_arguments(self) -> dict:
        kind = self.kinds.get(self.cleaned_data["kind"])
        return {"kind": kind, "uploaded": self.cleaned_data["file"]}


class MessageForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Votre message à l'instructeur"), max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 3}))


@agent_required
@require_GET
def demande_detail(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    prefetch_related_objects([demande.prestation], "required_documents")  # for the list and the form
    documents = list(demande.documents.select_related("kind"))
    verdict = services.verdict_for(demande) if demande.status in (Demande.Status.DRAFT,
                                                                  Demande.Status.AWAITING_DOCUMENTS) else None
    return render(request, "prestations/demande.html", {
        "demande": demande, "verdict": verdict, "events": demande.events.exclude(kind__in=DemandeEvent.STAFF_ONLY)
        .select_related("actor"),
        "documents": documents, "missing": services.missing_documents(demande, documents=documents),
        "document_form": DocumentForm(prestation=demande.prestation),
        "message_form": MessageForm(),
        "payment_date": letters.expected_payment_date(demande), "reasons": letters.refusal_reasons(demande),
    })


def _back(demande):
    return redirect("espace:demande", pk=demande.pk)


def _run(request, demande, action, *, done: str, level=messages.SUCCESS):
    """Call the service; its refusals become error messages, its success ``done``; back to the request."""
    try:
        action()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.add_message(request, level, done)
    return _back(demande)


@agent_required
@require_POST
def demande_document(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    form = DocumentForm(request.POST, request.FILES, prestation=demande.prestation)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back(demande)
    return _run(request, demande, lambda: once(request, scope="demande.document", create=lambda: services.add_document(
        actor=request.user, demande=demande, **form.service_arguments())),
                done=_("Pièce ajoutée."))


@agent_required
@require_POST
def demande_submit(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    return _run(request, demande, lambda: services.submit(actor=request.user, demande=demande),
                done=_("Votre demande est envoyée. Vous serez prévenu(e) par e-mail de chaque étape."))


@agent_required
@require_POST
def demande_withdraw(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    return _run(request, demande, lambda: services.withdraw(actor=request.user, demande=demande),
                done=_("Votre demande est retirée."), level=messages.INFO)


@agent_required
@require_POST
def demande_message(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        once(request, scope="demande.message",
             create=lambda: services.post_message(actor=request.user,
                                                  demande=demande, text=form.cleaned_data["text"],
                                                  from_staff=False))
        messages.success(request, _("Message envoyé à l'instructeur."))
    else:
        messages.error(request, _("Le message est vide."))
    return _back(demande)


@agent_required
@require_GET
def demande_file(request, pk: int, doc: int):
    demande = get_own_demande_or_404(request, pk)
    document = get_object_or_404(demande.documents, pk=doc)
    return private_files.serve(document.file, content_type=document.content_type, filename=document.original_name,
                               inline=True)


@agent_required
@require_GET
def demande_decision(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    if not demande.decision_pdf:
        raise Http404
    return private_files.serve(demande.decision_pdf, content_type="application/pdf",
                               filename=f"decision-{demande.pk}.pdf", inline=True)


@agent_required
@require_GET
def demande_refusal_attestation(request, pk: int):
    demande = get_own_demande_or_404(request, pk)
    if demande.status != Demande.Status.REFUSED or not demande.refusal_attestation_pdf:
        raise Http404
    return private_files.serve(demande.refusal_attestation_pdf, content_type="application/pdf",
                               filename=f"attestation-refus-{demande.pk}.pdf", inline=True)


# --- Bank details and tax figures -----------------------------------------------------------

@agent_required
@require_http_methods(["GET", "POST"])
def bank_details(request):
    agent = request.agent
    form = BankDetailsForm(request.POST or None, initial={"iban": agent.iban, "bic": agent.bic})
    if request.method == "POST" and form.is_valid():
        try:
            account_services.update_bank_details(actor=request.user, agent=agent, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Vos coordonnées bancaires sont enregistrées."))
            return redirect("espace:home")
    return render(request, "prestations/bank.html", {"form": form})


@agent_required
@require_http_methods(["GET", "POST"])
def tax(request):
    agent = request.agent
    today = timezone.localdate()
    form = TaxDeclarationForm(request.POST or None, request.FILES or None, initial={"year": today.year - 1})
    if request.method == "POST" and form.is_valid():
        declaration = account_services.declare_tax(actor=request.user, agent=agent, **form.cleaned_data)
        messages.success(request, _("Votre quotient familial est de %(qf)s €. Vos droits ci-dessous en tiennent "
                                    "compte.") % {"qf": str(declaration.family_quotient).replace(".", ",")})
        return redirect("espace:catalogue")
    return render(request, "prestations/tax.html", {
        "form": form, "declarations": TaxDeclaration.objects.filter(agent=agent).order_by("-year")})
