from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    # Service messages are asserted in English, whatever the Indonesian catalogue says.
    # Test clients ask for English with HTTP_ACCEPT_LANGUAGE="en" (see factories.english_client).
    with translation.override("en"):
        yield
