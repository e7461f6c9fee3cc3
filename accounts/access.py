"""One access helper per object: what this user may see, or a 404."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import Agent, FamilyMember


def agent_required(view):
    """The view is for a user tied to an agent; request.agent is that agent.

    A user without an agent file gets a 404, like any page that is not his."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:  # the agent the space check has already read (a reverse one-to-one is cached on the user)
            request.agent = request.user.agent
        except Agent.DoesNotExist:
            raise Http404 from None
        return view(request, *args, **kwargs)

    return wrapper


def get_family_member_or_404(*, agent: Agent, pk: int) -> FamilyMember:
    return get_object_or_404(FamilyMember, pk=pk, agent=agent)
