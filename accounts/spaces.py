"""The spaces a user can work in, and where he or she lands after login.

Each app registers its own space from its AppConfig.ready(), so that this app,
on the left of the dependency chain, never imports the apps on its right.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Space:
    code: str
    label: str
    url_name: str
    order: int
    applies_to: Callable[[object], bool]
    requires_mfa: bool = False

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_registry: dict[str, Space] = {}


def register(space: Space) -> None:
    _registry[space.code] = space


def spaces_for(user) -> list[Space]:
    """The spaces this user may enter, in landing order (cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_portal_spaces", None)
    if cached is None:
        cached = [s for s in sorted(_registry.values(), key=lambda s: s.order) if s.applies_to(user)]
        user._portal_spaces = cached
    return cached


def requires_mfa(user) -> bool:
    """Staff and managers must have a second factor before reaching their space."""
    return any(space.requires_mfa for space in spaces_for(user))
