"""Running awaitables from the synchronous callbacks the Rust core calls."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")


async def _await(value: Awaitable[T]) -> T:
    return await value


def resolve(value: Any) -> Any:
    """``value``, or its result when it is awaitable.

    Callbacks run on the thread that called into the core. When that is an AnyIO worker thread
    (the httpx adapters run the core there), an awaitable is run on the event loop that started
    the thread, so async storages and handlers bound to that loop work. Otherwise it is run in
    a fresh event loop.
    """
    if not isinstance(value, Awaitable):
        return value
    import asyncio  # lazily: importing asyncio costs more than the rest of mcp_auth
    try:
        from anyio import from_thread
    except ImportError:  # pragma: no cover - anyio comes with httpx/httpx2
        from_thread = None  # type: ignore[assignment]
    if from_thread is not None:
        try:
            return from_thread.run(_await, value)
        except RuntimeError as e:
            if "worker thread" not in str(e) and "event loop" not in str(e).lower():
                raise
    return asyncio.run(_await(value))
