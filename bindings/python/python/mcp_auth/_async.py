"""``mcp_auth.AsyncClient``: the awaitable client.

Every method awaits the same core call as ``mcp_auth.Client``, run on a worker thread of the
event loop's thread pool (AnyIO's when AnyIO is installed, so asyncio and trio both work;
asyncio's default executor otherwise): the loop is never blocked, and async storages and
redirect handlers run on the caller's loop. Each call gets a ``CancelToken`` of its own:
when the awaiting task is cancelled, that token is cancelled and the call is abandoned at
once; the core call ends at its next checkpoint (within 25 ms in the browser wait, and as soon
as an HTTP request already on the wire completes) and releases the flow, so the next request
starts instead of queueing behind it. Other calls on the same client are not affected.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._client import Client
from ._native import CancelToken, Discovery, ProbeResult, Response, Revocation

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient:
    """The awaitable MCP authorization client for one MCP server.

    ``AsyncClient(url, **options)`` takes the arguments of ``mcp_auth.Client``;
    ``AsyncClient(client)`` wraps an existing ``Client`` (sharing its tokens and flows).
    Cancelling the task awaiting a call cancels that call (``CancelledError`` in the abandoned
    core call; the task sees the usual cancellation)."""

    def __init__(self, client: Client | str, **options: Any) -> None:
        self.client = client if isinstance(client, Client) else Client(client, **options)

    @property
    def server_url(self) -> str:
        return self.client.server_url

    @property
    def resource_key(self) -> str:
        return self.client.resource_key

    @property
    def redirect_uri(self) -> str:
        return self.client.redirect_uri

    @property
    def max_authorizations(self) -> int:
        return self.client.max_authorizations

    async def _run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        token = CancelToken()
        work = functools.partial(call, *args, cancel=token, **kwargs)
        try:
            from anyio import get_cancelled_exc_class, to_thread
        except ImportError:  # pragma: no cover - anyio comes with httpx/httpx2 and mcp
            import asyncio

            try:
                return await asyncio.get_running_loop().run_in_executor(None, work)
            except asyncio.CancelledError:
                token.cancel()
                raise
        try:
            return await to_thread.run_sync(work, abandon_on_cancel=True)
        except get_cancelled_exc_class():
            token.cancel()
            raise

    async def send(
        self,
        method: str,
        url: str | None = None,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        json: Any = None,
    ) -> Response:
        """``Client.send``, awaitable."""
        return await self._run(self.client.send, method, url, headers=headers, body=body, json=json)

    async def post_json(self, message: Any) -> Response:
        """``Client.post_json``, awaitable."""
        return await self._run(self.client.post_json, message)

    async def probe(self) -> ProbeResult:
        """``Client.probe``, awaitable."""
        return await self._run(self.client.probe)

    async def discover(self) -> Discovery:
        """``Client.discover``, awaitable."""
        return await self._run(self.client.discover)

    async def access_token(self) -> str:
        """``Client.access_token``, awaitable."""
        return await self._run(self.client.access_token)

    async def current_token(self) -> str | None:
        """``Client.current_token``, awaitable."""
        return await self._run(self.client.current_token)

    async def authorize_after(
        self, status: int, www_authenticate: list[str], rejected_token: str | None = None
    ) -> str | None:
        """``Client.authorize_after``, awaitable."""
        return await self._run(self.client.authorize_after, status, www_authenticate, rejected_token)

    async def logout(self) -> Revocation:
        """``Client.logout`` (revoke, then forget the tokens), awaitable."""
        return await self._run(self.client.logout)

    async def forget_client(self) -> str:
        """``Client.forget_client``, awaitable."""
        return await self._run(self.client.forget_client)

    def authorization_headers(self, method: str, url: str, token: str) -> list[tuple[str, str]]:
        """``Client.authorization_headers`` (no I/O: not awaitable)."""
        return self.client.authorization_headers(method, url, token)

    def granted_scope(self) -> str | None:
        return self.client.granted_scope()

    def cancel(self) -> None:
        """Cancel every call in progress on this client (``Client.cancel``)."""
        self.client.cancel()

    async def aclose(self) -> None:
        self.client.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncClient(server_url={self.server_url!r})"
