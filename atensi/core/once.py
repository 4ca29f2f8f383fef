"""Once-only form submissions: a double-clicked or re-sent form is saved once.

A form that creates something mixes in `OnceFormMixin` (a hidden random token); the
view calls `claim_submission()` inside the same transaction as the service call. The
token's primary key makes the second claim fail, so the duplicate is refused by the
database whatever the timing; if the write fails, the claim rolls back with it and the
user can submit again.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from atensi.core.errors import ApplicationError

TOKEN_FIELD = "submission_token"


class OnceFormMixin(forms.Form):
    submission_token = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields[TOKEN_FIELD].initial = uuid.uuid4()


class AlreadySubmitted(ApplicationError):
    """This exact form was saved before (a double click or a re-sent page)."""

    def __init__(self) -> None:
        super().__init__(_("This form was already saved. Nothing was saved twice."))


def claim_submission(*, user: AbstractUser, token: uuid.UUID | None) -> None:
    """Record the form's token; raise AlreadySubmitted if it was recorded before.

    Call inside the transaction that performs the write. A form without a token (an old
    page, a script) is let through: the database's own constraints still apply.
    """
    from .models import SubmissionToken

    if token is None:
        return
    try:
        with transaction.atomic():
            SubmissionToken.objects.create(token=token, user_id=user.pk)
    except IntegrityError:
        raise AlreadySubmitted() from None
