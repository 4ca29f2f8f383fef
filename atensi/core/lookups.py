"""`field__in_ids=[...]`: a list of ids as one array parameter.

`pk__in=ids` writes one placeholder per id: with a thousand ids, Django spends milliseconds
building the list and Postgres more parsing and planning it, in every query that carries
it (a supervisor's home page carries their case ids in seven). `pk__in_ids=ids` sends one
array literal instead (`= ANY('{1,2,3}'::bigint[])`): the same plan (an index condition
or a hashed filter), a fraction of the work. For integer ids only; anything else is a
programming error.

Django resolves a list on the right of any lookup element by element, when the filter is
built: a thousand ids cost that walk again in every queryset that carries them.
`IdArray(ids)` writes the literal once; a filter given it (`pk__in_ids=IdArray(ids)`)
takes it as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import ForeignKey, IntegerField, Lookup


class IdArray:
    """A list of ids already written as the array literal, for ids that several queries carry."""

    __slots__ = ("literal", "size")

    def __init__(self, values: Iterable[Any]) -> None:
        ids = [int(value) for value in values]
        # int() refuses anything that is not an id, so nothing but digits reaches the literal.
        self.literal = "{" + ",".join(map(str, ids)) + "}"
        self.size = len(ids)

    def __len__(self) -> int:
        return self.size


class InIds(Lookup):
    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self) -> str:
        if isinstance(self.rhs, IdArray):
            return self.rhs.literal
        return IdArray(self.rhs).literal

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s::bigint[])", (*lhs_params, self.rhs)


def register() -> None:
    IntegerField.register_lookup(InIds)
    ForeignKey.register_lookup(InIds)
