"""What the correspondent's views share: the access decorator and service errors on forms."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError

from adhesions.access import (
    CORRESPONDENT,
    get_managed_adherent_or_404,
)


def correspondent_view(view):
    """The view of one adherent that this user is a correspondent of; 404 for anybody else."""

    @login_required
    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        request.adherent = get_managed_adherent_or_404(request.user, pk, role=CORRESPONDENT)
        return view(request, request.adherent, *args, **kwargs)

    return wrapper


def _form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
