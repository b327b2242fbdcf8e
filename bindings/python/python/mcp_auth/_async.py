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
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from typing import Any, TypeVar

from ._client import Client
from ._native import (
    CancelToken,
    CapturedChallenge,
    Discovery,
    ProbeResult,
    Response,
    Revocation,
    ServerSentEvent,
    StreamedResponse,
)

__all__ = ["AsyncClient", "AsyncStreamedResponse"]

T = TypeVar("T")


async def _in_thread(work: Callable[[], T], on_cancel: Callable[[], None]) -> T:
    """``work()`` on a worker thread; when the awaiting task is cancelled, ``on_cancel()`` runs
    and the cancellation goes on at once (the thread is abandoned)."""
    try:
        from anyio import get_cancelled_exc_class, to_thread
    except ImportError:  # pragma: no cover - anyio comes with httpx/httpx2 and mcp
        import asyncio

        try:
            return await asyncio.get_running_loop().run_in_executor(None, work)
        except asyncio.CancelledError:
            on_cancel()
            raise
    try:
        return await to_thread.run_sync(work, abandon_on_cancel=True)
    except get_cancelled_exc_class():
        on_cancel()
        raise


class AsyncStreamedResponse:
    """``StreamedResponse`` read without blocking the event loop: each read runs on a worker
    thread. Cancelling the task that awaits a read closes the stream at once (the connection
    ends as soon as the read in progress returns: on the next data or the idle timeout).
    Use it as an async context manager, or ``await aclose()``."""

    def __init__(self, stream: StreamedResponse) -> None:
        self.stream = stream

    @property
    def status(self) -> int:
        return self.stream.status

    @property
    def headers(self) -> list[tuple[str, str]]:
        return self.stream.headers

    @property
    def challenge(self) -> CapturedChallenge | None:
        return self.stream.challenge

    @property
    def authorizations(self) -> int:
        return self.stream.authorizations

    @property
    def closed(self) -> bool:
        return self.stream.closed

    def header(self, name: str) -> str | None:
        return self.stream.header(name)

    def header_values(self, name: str) -> list[str]:
        return self.stream.header_values(name)

    def is_event_stream(self) -> bool:
        return self.stream.is_event_stream()

    async def aread(self, n: int = -1) -> bytes:
        """``StreamedResponse.read``, awaitable."""
        return await _in_thread(functools.partial(self.stream.read, n), self.stream.close)

    async def aiter_bytes(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        """The body in chunks of at most ``chunk_size`` bytes, each as soon as it arrived."""
        chunks = self.stream.iter_bytes(chunk_size)
        while True:
            chunk = await _in_thread(functools.partial(next, chunks, None), self.stream.close)
            if chunk is None:
                return
            yield chunk

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.aiter_bytes()

    async def aevents(self) -> AsyncIterator[ServerSentEvent]:
        """The body's server-sent events, each as soon as it is complete."""
        events = self.stream.events()
        while True:
            event = await _in_thread(functools.partial(next, events, None), self.stream.close)
            if event is None:
                return
            yield event

    async def aclose(self) -> None:
        """Close the stream (never blocks: a read in progress drops the connection when it
        returns)."""
        self.stream.close()

    async def __aenter__(self) -> AsyncStreamedResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"Async{self.stream!r}"


class _StreamCall:
    """What ``AsyncClient.send_streamed`` returns: await it, or ``async with`` it (the stream
    is closed on leaving the block)."""

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        self._open = open_stream
        self._response: AsyncStreamedResponse | None = None

    async def _start(self) -> AsyncStreamedResponse:
        return AsyncStreamedResponse(await self._open())

    def __await__(self) -> Generator[Any, None, AsyncStreamedResponse]:
        return self._start().__await__()

    async def __aenter__(self) -> AsyncStreamedResponse:
        self._response = await self._start()
        return self._response

    async def __aexit__(self, *exc: object) -> None:
        if self._response is not None:
            await self._response.aclose()


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
        return await _in_thread(functools.partial(call, *args, cancel=token, **kwargs), token.cancel)

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

    def send_streamed(
        self,
        method: str,
        url: str | None = None,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        json: Any = None,
    ) -> _StreamCall:
        """``Client.send_streamed``: ``async with client.send_streamed(...) as response``
        (or ``response = await client.send_streamed(...)``), then ``aiter_bytes()``,
        ``aevents()`` or ``aread()`` (``AsyncStreamedResponse``)."""
        return _StreamCall(
            functools.partial(
                self._run,
                self.client.send_streamed,
                method,
                url,
                headers=headers,
                body=body,
                json=json,
            )
        )

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

    def accept_dpop_nonce(self, status: int, www_authenticate: list[str], dpop_nonce: str | None) -> bool:
        """``Client.accept_dpop_nonce`` (no I/O: not awaitable)."""
        return self.client.accept_dpop_nonce(status, www_authenticate, dpop_nonce)

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
