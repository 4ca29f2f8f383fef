"""Fixtures shared by every test module (registered with `-p atensi.testing.fixtures`).

Every scoping test has three personas (after healthchecks' alice, bob and charlie):
`owner` and `colleague` work in `org`; `outsider` works in `other_org`.
Imports are inside fixtures: this plugin loads before Django is set up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from django.test import Client

    from stakeholders.models import User


def pytest_configure(config: pytest.Config) -> None:
    # The test databases (cloned from a migrated template). Registered now, after pytest-django
    # (an entry-point plugin, loaded after -p plugins), so that its django_db_setup wins.
    config.pluginmanager.import_plugin("atensi.testing.database")
    # The same for the test client: it gives the second factor with `force_login`.
    config.pluginmanager.import_plugin("atensi.testing.client_fixture")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Under pytest-xdist the longest tests (browser journeys) are handed out first, so that
    # no worker is left running one while the others are idle. (xdist's loadgroup already
    # starts with the biggest group: the integration tests.) Every worker sorts the same way.
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("browser") is None)


@pytest.fixture
def org(db: Any) -> Any:
    from stakeholders.tests.factories import organisation

    return organisation(code="BA-UJI", name="Balai Anak Uji")


@pytest.fixture
def other_org(db: Any) -> Any:
    from stakeholders.tests.factories import organisation

    return organisation(code="BA-LAIN", name="Balai Anak Lain")


def _persona(organisation: Any, role: str, username: str) -> Any:
    from stakeholders.tests.factories import member

    return member(organisation=organisation, role=role, username=username)


@pytest.fixture
def owner(org: Any) -> Any:
    return _persona(org, "social_worker", "owner")


@pytest.fixture
def colleague(org: Any) -> Any:
    return _persona(org, "social_worker", "colleague")


@pytest.fixture
def supervisor(org: Any) -> Any:
    return _persona(org, "supervisor", "supervisor")


@pytest.fixture
def org_admin(org: Any) -> Any:
    return _persona(org, "org_admin", "orgadmin")


@pytest.fixture
def outsider(other_org: Any) -> Any:
    # An org admin elsewhere: the strongest role that must still see nothing of `org`.
    return _persona(other_org, "org_admin", "outsider")


@pytest.fixture
def superuser(db: Any) -> Any:
    from stakeholders.tests.factories import user

    return user(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def client_for(client: Client) -> Callable[[User], Client]:
    """client_for(user) -> a test client logged in as user."""

    def make(user: User) -> Client:
        from atensi.testing.second_factor import Client

        c = Client()
        c.force_login(user)
        return c

    return make
