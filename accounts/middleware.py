from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import spaces


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireMFAMiddleware:
    """Staff and managers set up TOTP before they reach anything but their account pages.

    They may not turn it off either: the deactivation page sends them back."""

    # the contact page too: someone stuck on the second factor can still reach his delegation
    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/sante/", "/contact/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and spaces.requires_mfa(user):
            response = self._enforce(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _enforce(self, request, user):
        path = request.path
        activate = reverse("mfa_activate_totp")
        deactivate = reverse("mfa_deactivate_totp")
        enrolled = has_totp(user)
        if enrolled and path != deactivate:
            return None
        if enrolled:  # trying to switch off the second factor
            messages.error(request, _("La double authentification est obligatoire pour votre rôle."))
            return redirect("mfa_index")
        if path.startswith(self.ALLOWED_PREFIXES):
            return None
        messages.warning(request, _(
            "Votre rôle donne accès à des données personnelles : activez la double "
            "authentification (application TOTP) pour continuer."
        ))
        return redirect(activate)
