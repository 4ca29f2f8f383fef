"""factory_boy factories for users, organisations and memberships."""

from __future__ import annotations

from typing import cast

import factory

from stakeholders.models import Membership, Organisation, OrganisationKind, User
from stakeholders.roles import Role

PASSWORD = "test-password-123"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"ORG-{n:04d}")
    name = factory.Sequence(lambda n: f"Balai Uji {n}")
    kind = OrganisationKind.BALAI


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    # Staff names never drawn from the pool of Indonesian names: tests assert that a child's
    # name (Budi Santoso, Fajar Ramadhan...) is *absent* from a page, and a random staff
    # member called Santoso on the same page made that flaky.
    first_name = factory.Sequence(lambda n: f"Staf{n}")
    last_name = "Uji"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: object) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.SOCIAL_WORKER


def organisation(**fields: object) -> Organisation:
    """An organisation from its factory, typed for callers held to strict typing (factory_boy's
    types say calling a factory gives the factory; it gives the model instance)."""
    return cast(Organisation, OrganisationFactory(**fields))


def user(**fields: object) -> User:
    """A user from its factory, typed for callers held to strict typing."""
    return cast(User, UserFactory(**fields))


def member(*, organisation: Organisation, role: str = Role.SOCIAL_WORKER, username: str | None = None) -> User:
    """A user holding `role` in `organisation`."""
    user = UserFactory(username=username) if username else UserFactory()
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user
