from accounts.spaces import spaces_for


def spaces(request):
    user = getattr(request, "user", None)
    available = spaces_for(user) if user is not None else []
    current = next(
        (s for s in available if request.path.startswith(s.url)), None
    ) if available else None
    return {"user_spaces": available, "current_space": current}
