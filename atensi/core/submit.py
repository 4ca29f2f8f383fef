"""The one way an HTML view hands a bound form to a service.

`submit()` validates the form, claims its once-token (when the form has one) in the same
transaction as the service call, runs the service, and turns what happened into what the
user sees: a business-rule refusal (`ApplicationError`) goes onto the form (its `field`,
else the form as a whole) or into a page message, a repeated submit (a double click, a
re-sent page) becomes an info message and is not saved twice, success adds its message.
The view is left with one decision: redirect on success, render the form otherwise.

    outcome = submit(request, form, lambda: records.note_create(case=case, by=user, **form.service_kwargs()),
                     success=_("The note was saved."))
    if outcome:
        return redirect("cases:case_notes", pk=case.pk)
    return render(request, "cases/note_form.html", {"form": form})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .errors import ApplicationError
from .once import TOKEN_FIELD, AlreadySubmitted, claim_submission

Message = str | Promise


@dataclass(frozen=True)
class Outcome[T]:
    """What became of a submitted form; true when it is saved (now, or by an earlier submit)."""

    done: bool
    value: T | None = None
    # The same form was saved before: nothing was done now and `value` is None.
    repeated: bool = False
    # The service's refusal, already shown to the user; views read its `extra` (a conflict).
    error: ApplicationError | None = None

    def __bool__(self) -> bool:
        return self.done


def first_error(form: forms.Form) -> str:
    """The form's first error, for forms shown as a button whose errors go into a page message."""
    for errors in form.errors.values():
        return str(errors[0])
    return _("The request was not understood; nothing was changed.")


def submit[T](
    request: HttpRequest,
    form: forms.Form,
    service: Callable[[], T],
    *,
    success: Message | Callable[[T], Message] | None = None,
    errors: Literal["form", "message"] = "form",
    invalid: Message | None = None,
) -> Outcome[T]:
    """Validate `form`, then run `service()` once; report the result to the user.

    errors="form" puts refusals on the form (the view renders it again); errors="message"
    puts them, and the first validation error (or `invalid`, when given), into a page
    message, for small forms posted from a button on another page.
    """
    user = request.user
    if not user.is_authenticated:  # login-protected pages only; the token belongs to a user
        raise PermissionDenied
    if not form.is_valid():
        if errors == "message":
            messages.error(request, str(invalid) if invalid is not None else first_error(form))
        return Outcome(done=False)
    try:
        if TOKEN_FIELD in form.fields:
            with transaction.atomic():
                claim_submission(user=user, token=form.cleaned_data.get(TOKEN_FIELD))
                value = service()
        else:
            value = service()
    except AlreadySubmitted as exc:
        messages.info(request, str(exc))
        return Outcome(done=True, repeated=True)
    except ApplicationError as exc:
        if errors == "form":
            # An error on a field the user cannot see (a hidden parameter) is the form's own.
            visible = exc.field in form.fields and not form[exc.field].is_hidden
            form.add_error(exc.field if visible else None, str(exc))
        else:
            messages.error(request, str(exc))
        return Outcome(done=False, error=exc)
    if success is not None:
        messages.success(request, str(success(value) if callable(success) else success))
    return Outcome(done=True, value=value)
