from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import agent_required
from accounts.forms import DateInput
from adhesions import selectors
from adhesions.access import COS_ADMIN, get_managed_adherent_or_404, require_some_adherent
from adhesions.models import Adherent, Employment
from cnas import exports
from cnas.forms import DateField, MoneyField
from cnas.idempotency import once
from cnas.pdf import render_pdf
from cnas.private_files import check_upload
from cos import services
from cos.models import CosMember, LocalAction, MemberFee, Participant, Registration


def cos_view(view):
    """A page of one association this user administers; 404 for anybody else."""

    @login_required
    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        request.cos = get_managed_adherent_or_404(request.user, pk, role=COS_ADMIN)
        return view(request, request.cos, *args, **kwargs)

    return wrapper


def _errors_into(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def index(request):
    associations = require_some_adherent(request.user, role=COS_ADMIN)
    if len(associations) == 1:
        return redirect("cos:home", pk=associations[0].pk)
    return render(request, "cos/index.html", {"associations": associations})


@cos_view
def home(request, association):
    today = timezone.localdate()
    return render(request, "cos/home.html", {
        "association": association, "adherent": association,
        "adhesion": association.current_adhesion(today), "last_adhesion": association.adhesions.first(),
        "covered": selectors.covered_count(adherent=association, day=today),
        "members": CosMember.objects.filter(cos=association).active_on(today).count(),
        "administrators": association.managers.select_related("user").order_by("user__email"),
        "compliance": services.compliance(cos=association, day=today), "today": today,
    })


# --- Members --------------------------------------------------------------------------------

class MemberForm(forms.Form):
    employer = forms.ModelChoiceField(label=gettext_lazy("Employeur"), queryset=Adherent.objects.none())
    employee_number = forms.CharField(label=gettext_lazy("Matricule"), max_length=32)
    birth_date = DateField(label=gettext_lazy("Date de naissance"), widget=DateInput())
    joined_on = DateField(label=gettext_lazy("Adhérent depuis le"), widget=DateInput())

    def __init__(self, *args, cos, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].queryset = Adherent.objects.filter(pk__in=services.served_employer_ids(cos))

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        line = (Employment.objects.filter(employer=cleaned["employer"], employee_number=cleaned["employee_number"],
                                          agent__birth_date=cleaned["birth_date"], end_date__isnull=True)
                .select_related("agent").first())
        if line is None:
            raise forms.ValidationError(_("Aucun agent en poste ne correspond à ce matricule et cette date de "
                                          "naissance chez cet employeur."))
        cleaned["agent"] = line.agent
        return cleaned


class FeeForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("Année"))
    amount = MoneyField(label=gettext_lazy("Montant (€)"), min_value=0)

    def clean_year(self):
        year, current = self.cleaned_data["year"], timezone.localdate().year
        if not current - 1 <= year <= current + 1:
            raise forms.ValidationError(_("Enregistrez la cotisation de %(a)s, %(b)s ou %(c)s.") % {
                "a": current - 1, "b": current, "c": current + 1})
        return year
    paid_on = DateField(label=gettext_lazy("Payée le"), widget=DateInput())
    means = forms.ChoiceField(label=gettext_lazy("Moyen"), choices=MemberFee.Means.choices)


class EndForm(forms.Form):
    left_on = DateField(label=gettext_lazy("Date de départ"), widget=DateInput())
    reason = forms.CharField(label=gettext_lazy("Motif"), max_length=200, required=False)


@cos_view
@require_http_methods(["GET", "POST"])
def members(request, association):
    today = timezone.localdate()
    form = MemberForm(request.POST or None, cos=association, initial={"joined_on": today})
    if request.method == "POST" and form.is_valid():
        try:
            member = once(request, scope="cos.member_add",
                          create=lambda: services.add_member(actor=request.user, cos=association,
                                                             agent=form.cleaned_data["agent"],
                                                             joined_on=form.cleaned_data["joined_on"]))[0]
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("%(name)s est membre.") % {"name": member.agent})
            return redirect("cos:member", pk=association.pk, member=member.pk)
    query = request.GET.get("q", "").strip()
    rows = (CosMember.objects.filter(cos=association).select_related("agent")
            .prefetch_related(Prefetch("fees", queryset=MemberFee.objects.filter(year=today.year), to_attr="this_year"))
            .order_by("left_on", "agent__last_name", "agent__first_name"))
    if query:
        rows = rows.filter(Q(agent__last_name__icontains=query) | Q(agent__first_name__icontains=query))
    return render(request, "cos/members.html", {"association": association, "form": form, "members": rows[:500],
                                                "query": query, "year": today.year})


def _member(association, pk):
    return get_object_or_404(CosMember.objects.select_related("agent"), pk=pk, cos=association)


@cos_view
@require_http_methods(["GET", "POST"])
def member(request, association, member: int):
    record = _member(association, member)
    today = timezone.localdate()
    settings_ = association.cos_settings if hasattr(association, "cos_settings") else None
    fee_form = FeeForm(request.POST if request.POST.get("form") == "fee" else None, initial={
        "year": today.year, "paid_on": today, "amount": settings_.fee_amount if settings_ else None})
    end_form = EndForm(request.POST if request.POST.get("form") == "end" else None, initial={"left_on": today})
    if request.method == "POST":
        form = fee_form if request.POST.get("form") == "fee" else end_form
        if form.is_valid():
            try:
                if form is fee_form:
                    once(request, scope="cos.fee",
                         create=lambda: services.record_fee(actor=request.user, member=record, **form.cleaned_data))
                    messages.success(request, _("Cotisation enregistrée."))
                else:
                    services.end_membership(actor=request.user, member=record, **form.cleaned_data)
                    messages.success(request, _("Départ enregistré."))
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                return redirect("cos:member", pk=association.pk, member=record.pk)
    return render(request, "cos/member.html", {
        "association": association, "member": record, "fees": record.fees.order_by("-year"),
        "fee_form": fee_form, "end_form": end_form,
        "coverage": record.agent.coverages.filter(adherent=association).order_by("-period"),
    })


# --- Convention -----------------------------------------------------------------------------

class ConventionForm(forms.Form):
    employer = forms.ModelChoiceField(label=gettext_lazy("Employeur"), queryset=Adherent.objects.none())
    signed_on = DateField(label=gettext_lazy("Signée le"), widget=DateInput())
    start_date = DateField(label=gettext_lazy("Date d'effet"), widget=DateInput())
    signed_pdf = forms.FileField(label=gettext_lazy("Convention signée (PDF)"))

    def __init__(self, *args, cos, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].queryset = Adherent.objects.filter(pk__in=services.served_employer_ids(cos))

    def clean_signed_pdf(self):
        uploaded = self.cleaned_data["signed_pdf"]
        try:
            check_upload(uploaded)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc
        return uploaded


@cos_view
@require_http_methods(["GET", "POST"])
def convention(request, association):
    form = ConventionForm(request.POST or None, request.FILES or None, cos=association)
    if request.method == "POST" and form.is_valid():
        try:
            once(request, scope="cos.convention",
                 create=lambda: services.sign_convention(actor=request.user, cos=association, **form.cleaned_data))
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Convention enregistrée : tous les agents de l'employeur sont couverts."))
            return redirect("cos:home", pk=association.pk)
    return render(request, "cos/convention.html", {"association": association, "form": form,
                                                   "conventions": association.conventions.select_related("employer")})


# --- Local actions --------------------------------------------------------------------------

class ActionForm(forms.ModelForm):
    price_adult = MoneyField(label=gettext_lazy("Prix par adulte (€)"), min_value=0, initial=0)
    price_child = MoneyField(label=gettext_lazy("Prix par enfant (€)"), min_value=0, initial=0)

    class Meta:
        model = LocalAction
        fields = ["title", "description", "starts_at", "place", "capacity", "price_adult", "price_child",
                  "registration_deadline", "is_published"]
        widgets = {"starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
                   "registration_deadline": DateInput()}


@cos_view
@require_http_methods(["GET", "POST"])
def actions(request, association):
    form = ActionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        action = once(request, scope="cos.action_create",
                      create=lambda: services.create_action(actor=request.user,
                                                            cos=association, **form.cleaned_data))[0]
        messages.success(request, _("Action créée."))
        return redirect("cos:action", pk=association.pk, action=action.pk)
    return render(request, "cos/actions.html", {"association": association, "form": form,
                                                "actions": association.local_actions.with_seats()})


def _action(association, pk):
    return get_object_or_404(LocalAction, pk=pk, cos=association)


@cos_view
@require_GET
def action(request, association, action: int):
    record = _action(association, action)
    registrations = (record.registrations.exclude(status=Registration.Status.CANCELLED)
                     .select_related("member__agent").prefetch_related("participants__family_member"))
    confirmed = [r for r in registrations if r.status == Registration.Status.CONFIRMED]
    waiting = [r for r in registrations if r.status == Registration.Status.WAITING]
    seats = sum(r.seats for r in confirmed)
    return render(request, "cos/action.html", {
        "association": association, "action": record, "confirmed": confirmed, "waiting": waiting,
        "seats": seats, "left": max(0, record.capacity - seats), "waiting_seats": sum(r.seats for r in waiting),
    })


@cos_view
@require_POST
def action_attendance(request, association, action: int):
    record = _action(association, action)
    present = {int(pk) for pk in request.POST.getlist("present") if pk.isascii() and pk.isdigit()}
    count = services.set_attendance(actor=request.user, action=record, present_ids=present)
    messages.success(request, _("%(n)s présent(s) enregistré(s).") % {"n": count})
    return redirect("cos:action", pk=association.pk, action=record.pk)


def _participants(action):
    return (Participant.objects.filter(registration__action=action,
                                       registration__status=Registration.Status.CONFIRMED)
            .select_related("registration__member__agent", "family_member")
            .order_by("registration__member__agent__last_name", "registration__id", "id"))


@cos_view
@require_GET
def action_export(request, association, action: int, fmt: str):
    record = _action(association, action)
    if fmt not in ("csv", "pdf"):
        raise Http404
    participants = list(_participants(record))
    if fmt == "pdf":
        content = render_pdf("cos/pdf/participants.html", {"action": record, "participants": participants,
                                                           "association": association})
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="participants-{record.pk}.pdf"'
        return response
    rows = ([f"{p.registration.member.agent.last_name.upper()} {p.registration.member.agent.first_name}",
             f"{(p.family_member or p.registration.member.agent).last_name.upper()} "
             f"{(p.family_member or p.registration.member.agent).first_name}",
             "oui" if p.is_child else "non", "oui" if p.attended else "non"] for p in participants)
    return exports.csv_response(f"participants-{record.pk}.csv", ["membre", "participant", "enfant", "présent"], rows)


# --- The member's side (in /espace/) ---------------------------------------------------------

def _memberships(agent):
    return CosMember.objects.filter(agent=agent, left_on__isnull=True).select_related("cos")


@agent_required
@require_GET
def espace_actions(request):
    return _actions_page(request)


def _actions_page(request, *, choice=None, status=200):
    """Published actions of the associations the agent belongs to, with the seats left and his
    registrations. ``choice``: the action and the selection a household made that did not fit."""
    agent = request.agent
    memberships = list(_memberships(agent))
    today = timezone.localdate()
    rows = (LocalAction.objects.filter(cos_id__in=[m.cos_id for m in memberships], is_published=True,
                                       starts_at__date__gte=today)
            .with_seats().select_related("cos").order_by("starts_at"))
    mine = {r.action_id: r for r in Registration.objects.filter(member__agent=agent).exclude(
        status=Registration.Status.CANCELLED)}
    for registration in mine.values():
        registration.rank = services.waiting_rank(registration)
    return render(request, "cos/espace_actions.html", {
        "rows": [(a, mine.get(a.pk)) for a in rows], "memberships": memberships, "choice": choice,
        "household": agent.household.all(), "fees": MemberFee.objects.filter(member__agent=agent).select_related(
            "member__cos").order_by("-year"),
    }, status=status)


@agent_required
@require_POST
def espace_register(request, action: int):
    agent = request.agent
    record = get_object_or_404(LocalAction, pk=action, is_published=True)
    member = _memberships(agent).filter(cos_id=record.cos_id).first()
    if member is None:
        raise Http404
    family = [int(pk) for pk in request.POST.getlist("family") if pk.isascii() and pk.isdigit()]
    include_member = request.POST.get("me") == "on"
    try:
        registration = once(request, scope="cos.register", create=lambda: services.register(
            actor=request.user, action=record, member=member, family_member_ids=family,
            include_member=include_member, wait_as_group=request.POST.get("wait") == "group"))[0]
    except services.NotEnoughSeats as exc:
        # told how many seats remain, the household chooses on the same page: fewer people, or wait together
        return _actions_page(request, choice={
            "action": record.pk, "message": exc.messages[0], "left": exc.left, "wanted": exc.wanted,
            "family": set(family), "me": include_member})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        if registration.status == Registration.Status.CONFIRMED:
            messages.success(request, _("Inscription confirmée."))
        else:
            messages.info(request, ngettext(
                "Vous êtes sur la liste d'attente pour %(n)s place. Vous serez prévenu(e) par e-mail dès "
                "qu'elle se libère.",
                "Vous êtes sur la liste d'attente pour %(n)s places, ensemble. Vous serez prévenu(e) par e-mail dès "
                "qu'elles se libèrent.", registration.seats) % {"n": registration.seats})
    return redirect("espace:actions")


@agent_required
@require_POST
def espace_cancel(request, registration: int):
    record = get_object_or_404(Registration, pk=registration, member__agent=request.agent)
    services.cancel_registration(actor=request.user, registration=record)
    messages.info(request, _("Inscription annulée."))
    return redirect("espace:actions")


@require_http_methods(["GET", "POST"])
def release_seat(request, token: str):
    """The link of the e-mail that offers a seat: the member gives it up in one click, without logging in."""
    record = services.registration_from_token(token)
    if record is None:
        raise Http404
    over = record.action.starts_at <= timezone.now()
    if request.method == "POST" and not over and record.status != Registration.Status.CANCELLED:
        services.cancel_registration(actor=record.member.agent.user, registration=record)
        record.refresh_from_db()
        return render(request, "cos/release_seat.html", {"registration": record, "released": True})
    return render(request, "cos/release_seat.html", {"registration": record, "over": over})


@agent_required
@require_GET
def espace_card(request, member: int):
    record = get_object_or_404(CosMember.objects.select_related("cos", "agent"), pk=member, agent=request.agent)
    year = timezone.localdate().year
    content = render_pdf("cos/pdf/card.html", {"member": record, "year": year,
                                               "paid": record.fees.filter(year=year).exists()})
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="carte-{record.pk}-{year}.pdf"'
    return response


@agent_required
@require_GET
def espace_receipt(request, fee: int):
    record = get_object_or_404(MemberFee.objects.select_related("member__cos", "member__agent"), pk=fee,
                               member__agent=request.agent)
    content = render_pdf("cos/pdf/receipt.html", {"fee": record, "today": timezone.localdate()})
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="recu-{record.member.cos_id}-{record.year}.pdf"'
    return response


# --- Importing members ----------------------------------------------------------------------

class MemberFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Fichier CSV ou XLSX des membres"),
                           help_text=gettext_lazy("10 Mo au plus. Colonnes : matricule, date de naissance ; "
                                                  "facultatives : nom, prénom, siret employeur, date d'adhésion, "
                                                  "cotisation, date de paiement."),
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded.size > 10 * 1024 * 1024:
            raise forms.ValidationError(_("Le fichier dépasse 10 Mo."))
        if not uploaded.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Type de fichier non accepté : déposez un fichier .csv ou .xlsx."))
        return uploaded


def _member_import(association, pk):
    from adhesions.models import RosterImport

    return get_object_or_404(RosterImport, pk=pk, adherent=association, kind=RosterImport.Kind.COS_MEMBERS)


@cos_view
@require_http_methods(["GET", "POST"])
def member_import(request, association):
    from adhesions.models import RosterImport

    form = MemberFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        record = once(request, scope="cos.member_import",
                      create=lambda: services.upload_member_file(actor=request.user,
                                                                 cos=association,
                                                                 uploaded=form.cleaned_data["file"]))[0]
        return redirect("cos:member_import_detail", pk=association.pk, imp=record.pk)
    history = RosterImport.objects.filter(adherent=association, kind=RosterImport.Kind.COS_MEMBERS)[:20]
    return render(request, "cos/member_import.html", {"association": association, "form": form, "history": history})


@cos_view
@require_http_methods(["GET", "POST"])
def member_import_detail(request, association, imp: int):
    record = _member_import(association, imp)
    if request.method == "POST":
        try:
            services.apply_member_file(actor=request.user, record=record)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Import appliqué."))
        return redirect("cos:member_import_detail", pk=association.pk, imp=record.pk)
    return render(request, "cos/member_import_detail.html", {"association": association, "record": record})
