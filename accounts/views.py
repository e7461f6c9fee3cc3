from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.access import agent_required, get_family_member_or_404
from accounts.forms import FamilyMemberForm
from accounts.spaces import spaces_for
from cnas.idempotency import once


@login_required
def landing(request):
    """Where login leads: the user's first space, or the account page."""
    available = spaces_for(request.user)
    if available:
        return redirect(available[0].url)
    return redirect("accounts:overview")


@login_required
def overview(request):
    return render(request, "accounts/overview.html", {"spaces": spaces_for(request.user)})


def _save_member(request, form, member=None):
    data = form.cleaned_data
    fields = {k: data[k] for k in ("relation", "first_name", "last_name", "birth_date", "adoption_date",
                                   "is_dependent")}
    try:
        if member is None:
            once(request, scope="household.add",
                 create=lambda: services.add_family_member(actor=request.user, agent=request.agent, **fields))
        else:
            services.update_family_member(actor=request.user, member=member, **fields)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    return True


@agent_required
@require_http_methods(["GET", "POST"])
def household_add(request):
    form = FamilyMemberForm(request.POST or None, agent=request.agent)
    if request.method == "POST" and form.is_valid() and _save_member(request, form):
        messages.success(request, _("Le membre du foyer a été ajouté. Vos droits ci-dessous en tiennent compte."))
        return redirect("espace:catalogue")
    return render(request, "accounts/household_form.html", {"form": form, "member": None})


@agent_required
@require_http_methods(["GET", "POST"])
def household_edit(request, pk: int):
    member = get_family_member_or_404(agent=request.agent, pk=pk)
    form = FamilyMemberForm(request.POST or None, instance=member, agent=request.agent)
    if request.method == "POST" and form.is_valid() and _save_member(request, form, member):
        messages.success(request, _("Les informations du foyer ont été mises à jour. Vos droits ci-dessous en "
                                    "tiennent compte."))
        return redirect("espace:catalogue")
    return render(request, "accounts/household_form.html", {"form": form, "member": member})


@agent_required
@require_POST
def household_remove(request, pk: int):
    member = get_family_member_or_404(agent=request.agent, pk=pk)
    try:
        services.remove_family_member(actor=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s a été retiré(e) du foyer.") % {"name": member.first_name})
    return redirect("espace:home")
