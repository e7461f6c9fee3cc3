from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from adhesions import selectors
from adhesions.access import COS_ADMIN, get_managed_adherent_or_404, require_some_adherent


@login_required
def index(request):
    associations = require_some_adherent(request.user, role=COS_ADMIN)
    if len(associations) == 1:
        return redirect("cos:home", pk=associations[0].pk)
    return render(request, "cos/index.html", {"associations": associations})


@login_required
def home(request, pk: int):
    association = get_managed_adherent_or_404(request.user, pk, role=COS_ADMIN)
    today = timezone.localdate()
    context = {
        "association": association,
        "adhesion": association.current_adhesion(today),
        "last_adhesion": association.adhesions.first(),
        "covered": selectors.covered_count(adherent=association, day=today),
        "administrators": association.managers.select_related("user").order_by("user__email"),
        "today": today,
    }
    return render(request, "cos/home.html", context)
