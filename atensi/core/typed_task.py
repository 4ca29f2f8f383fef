"""`task`, celery's `shared_task` with the decorated function's signature kept.

Celery ships no annotations, so `@shared_task` hands mypy an untyped object: every call,
`.delay()` and `.apply_async()` of a task would go unchecked. `task` registers the same
shared task and gives it the `Task` protocol below, whose `__call__` and `delay` take
exactly the function's parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from celery import shared_task
from celery.result import AsyncResult


class Task[**P, R](Protocol):
    name: str

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...

    def delay(self, *args: P.args, **kwargs: P.kwargs) -> AsyncResult: ...

    def apply_async(
        self,
        args: Sequence[object] | None = None,
        kwargs: Mapping[str, object] | None = None,
        **options: object,
    ) -> AsyncResult: ...


def task[**P, R](*, name: str, **options: object) -> Callable[[Callable[P, R]], Task[P, R]]:
    """`@task(name=..., acks_late=True, ...)`: the options are `shared_task`'s."""

    def register(fn: Callable[P, R]) -> Task[P, R]:
        registered: Task[P, R] = shared_task(name=name, **options)(fn)
        return registered

    return register
