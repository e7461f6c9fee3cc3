"""One access helper per object: what this manager may see, or a 404."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from adhesions.models import Adherent, Manager


def managed_adherents(user, *, role: str):
    if not user.is_authenticated:
        return Adherent.objects.none()
    return Adherent.objects.filter(managers__user=user, managers__role=role).distinct()


def get_managed_adherent_or_404(user, pk: int, *, role: str) -> Adherent:
    """The adherent ``pk`` if this user manages it in this role; a 404 otherwise,
    so that nobody learns which other adherents exist."""
    return get_object_or_404(managed_adherents(user, role=role).select_related("region"), pk=pk)


def require_some_adherent(user, *, role: str):
    adherents = managed_adherents(user, role=role)
    if not adherents.exists():
        raise Http404
    return adherents


CORRESPONDENT = Manager.Role.CORRESPONDENT
COS_ADMIN = Manager.Role.COS_ADMIN


def get_roster_line_or_404(adherent: Adherent, pk: int):
    from adhesions.models import Employment

    return get_object_or_404(Employment.objects.select_related("agent", "employer"), pk=pk, employer=adherent)


def get_roster_import_or_404(adherent: Adherent, pk: int):
    from adhesions.models import RosterImport

    return get_object_or_404(RosterImport.objects.select_related("uploaded_by"), pk=pk, adherent=adherent)
