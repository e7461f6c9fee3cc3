from django.shortcuts import render
from django.utils import timezone

from accounts.access import agent_required
from adhesions import selectors


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
        "today": today,
    }
    return render(request, "prestations/home.html", context)
