from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from adhesions import selectors
from adhesions.access import CORRESPONDENT, get_managed_adherent_or_404, require_some_adherent


@login_required
def index(request):
    adherents = require_some_adherent(request.user, role=CORRESPONDENT)
    if len(adherents) == 1:
        return redirect("collectivite:home", pk=adherents[0].pk)
    return render(request, "adhesions/index.html", {"adherents": adherents})


@login_required
def home(request, pk: int):
    adherent = get_managed_adherent_or_404(request.user, pk, role=CORRESPONDENT)
    today = timezone.localdate()
    context = {
        "adherent": adherent,
        "adhesion": adherent.current_adhesion(today),
        "last_adhesion": adherent.adhesions.first(),
        "counts": selectors.roster_counts(adherent=adherent, day=today),
        "covered": selectors.covered_count(adherent=adherent, day=today),
        "colleagues": adherent.managers.select_related("user").order_by("user__email"),
        "today": today,
    }
    return render(request, "adhesions/home.html", context)
