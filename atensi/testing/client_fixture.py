"""pytest-django's `client`, replaced: the test client every test gets signs in with the
second factor where the person needs one (atensi.testing.second_factor). Registered after
pytest-django (atensi.testing.fixtures.pytest_configure), so that this fixture wins."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def client() -> Any:
    from atensi.testing.second_factor import Client

    return Client()
