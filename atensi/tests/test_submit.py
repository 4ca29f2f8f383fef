"""The form→service helper: what the user sees for a saved, refused, invalid or repeated form."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from atensi.core.errors import ApplicationError
from atensi.core.models import SubmissionToken
from atensi.core.once import OnceFormMixin
from atensi.core.submit import submit
from stakeholders.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class NameForm(OnceFormMixin):
    name = forms.CharField()


class PlainForm(forms.Form):
    name = forms.CharField()


def _request(user: Any) -> Any:
    request = RequestFactory().post("/")
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _messages(request: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(request)]


@pytest.fixture
def user() -> Any:
    return UserFactory()


def test_it_runs_the_service_and_says_so(user: Any) -> None:
    request = _request(user)
    form = NameForm({"name": "Rizky", "submission_token": "6f0c3a52-52bb-4a8b-9d3f-0c6b6a1d2e11"})
    outcome = submit(request, form, lambda: form.cleaned_data["name"].upper(), success=lambda v: f"saved {v}")
    assert outcome and outcome.value == "RIZKY" and not outcome.repeated
    assert _messages(request) == [("success", "saved RIZKY")]
    assert SubmissionToken.objects.filter(user=user).count() == 1


def test_it_saves_a_repeated_form_once(user: Any) -> None:
    data = {"name": "Rizky", "submission_token": "6f0c3a52-52bb-4a8b-9d3f-0c6b6a1d2e11"}
    calls: list[str] = []
    submit(_request(user), NameForm(data), lambda: calls.append("x"), success="saved")
    request = _request(user)
    outcome = submit(request, NameForm(data), lambda: calls.append("x"), success="saved")
    assert outcome and outcome.repeated and outcome.value is None
    assert calls == ["x"]
    assert [level for level, _text in _messages(request)] == ["info"]


def test_invalid_form_calls_nothing(user: Any) -> None:
    request = _request(user)
    form = PlainForm({"name": ""})
    outcome = submit(request, form, lambda: pytest.fail("the service must not run"))
    assert not outcome and outcome.error is None
    assert form.errors["name"]
    assert _messages(request) == []


def test_a_refusal_lands_on_its_field_and_rolls_back_the_token(user: Any) -> None:
    request = _request(user)
    form = NameForm({"name": "Rizky", "submission_token": "6f0c3a52-52bb-4a8b-9d3f-0c6b6a1d2e11"})

    def refuse() -> None:
        raise ApplicationError("Nama sudah dipakai.", field="name", extra={"conflict": True})

    outcome = submit(request, form, refuse)
    assert not outcome and outcome.error is not None and outcome.error.extra == {"conflict": True}
    assert form.errors["name"] == ["Nama sudah dipakai."]
    # The write failed, so the user may submit the same form again.
    assert not SubmissionToken.objects.exists()


def test_a_refusal_without_a_known_field_is_the_form_s_error(user: Any) -> None:
    form = PlainForm({"name": "Rizky"})

    def refuse() -> None:
        raise ApplicationError("Kasus sudah ditutup.", field="nowhere")

    submit(_request(user), form, refuse)
    assert form.non_field_errors() == ["Kasus sudah ditutup."]


def test_message_mode_puts_errors_on_the_page(user: Any) -> None:
    request = _request(user)
    submit(request, PlainForm({"name": ""}), lambda: None, errors="message", invalid="Isi nama.")
    submit(
        request,
        PlainForm({"name": "x"}),
        lambda: (_ for _ in ()).throw(ApplicationError("Tidak boleh.")),
        errors="message",
    )
    assert _messages(request) == [("error", "Isi nama."), ("error", "Tidak boleh.")]
