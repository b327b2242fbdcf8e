"""The httpx/httpx2 ``Auth`` flow shared by ``mcp_auth.httpx2`` and ``mcp_auth.httpx``.

The flow: attach ``Client.current_token()`` (the core's ``current_token``: the stored token,
refreshed if about to expire, never a new authorization) → send → on 401, or on 403, hand the
status, the ``WWW-Authenticate`` values and the rejected token to ``Client.authorize_after`` (the
core's ``authorize_after``: refresh, authorize or step up exactly as its own ``send`` would,
single flight across threads) → retry with the new token, at most
``Client.max_authorizations`` times, then hand the last response to the caller. The token is
attached only to requests for the MCP server's origin, with the headers the core computes
(``Client.authorization_headers``): ``Bearer``, or for a DPoP-bound token the ``DPoP`` scheme
and a fresh proof for each request (RFC 9449); a 401 demanding a DPoP nonce (§9) is answered
by sending the request again with the nonce in the proof, without an authorization. The async
flow awaits ``mcp_auth.AsyncClient``: the loop is never blocked, async storages and handlers
run on the loop, and cancelling the request's task cancels the core call in progress (the flow
is released for the next request).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

from ._async import AsyncClient
from ._client import Client

# Nonce retries per request (a server that rotates its nonce on every answer is not followed
# forever); each one needs a nonce the client has not used yet.
_MAX_NONCES = 2


def _origin(url: Any) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return (url.scheme, url.host.lower(), url.port or default)


class AuthFlow:
    """Mixed into an ``httpx.Auth``/``httpx2.Auth`` subclass (see ``mcp_auth.httpx2.McpAuth``)."""

    requires_request_body = True
    requires_response_body = False
    _url_type: Any = None

    def __init__(self, client: Client | str, **options: Any) -> None:
        """``client``: an ``mcp_auth.Client``, or the MCP server URL to build one with
        ``options`` (see ``mcp_auth.Client``)."""
        self.client = client if isinstance(client, Client) else Client(client, **options)
        self.async_client = AsyncClient(self.client)
        self._server_origin = _origin(self._url_type(self.client.server_url))

    def _applies(self, request: Any) -> bool:
        return _origin(request.url) == self._server_origin

    def _nonce_demanded(self, response: Any, www: list[str], token: str | None) -> bool:
        """RFC 9449 §9: the resource server wants its nonce in the proof; the same request
        goes again with a fresh proof carrying it (same token, no authorization)."""
        nonce = response.headers.get("dpop-nonce")
        return bool(token and nonce) and self.client.accept_dpop_nonce(response.status_code, www, nonce)

    def _token_header(self, request: Any, token: str | None) -> None:
        if token:
            for name, value in self.client.authorization_headers(request.method, str(request.url), token):
                request.headers[name] = value

    def auth_flow(self, request: Any) -> Generator[Any, Any, None]:
        if not self._applies(request):
            yield request
            return
        token = self.client.current_token()
        self._token_header(request, token)
        response = yield request
        authorizations = nonces = 0
        while response.status_code in (401, 403):
            www = response.headers.get_list("www-authenticate")
            if nonces < _MAX_NONCES and self._nonce_demanded(response, www, token):
                nonces += 1
            elif authorizations < self.client.max_authorizations:
                authorizations += 1
                new = self.client.authorize_after(response.status_code, www, token)
                if new is None:
                    return
                token = new
            else:
                return
            self._token_header(request, token)
            response = yield request

    async def async_auth_flow(self, request: Any) -> AsyncGenerator[Any, Any]:
        if not self._applies(request):
            yield request
            return
        token = await self.async_client.current_token()
        self._token_header(request, token)
        response = yield request
        authorizations = nonces = 0
        while response.status_code in (401, 403):
            www = response.headers.get_list("www-authenticate")
            if nonces < _MAX_NONCES and self._nonce_demanded(response, www, token):
                nonces += 1
            elif authorizations < self.client.max_authorizations:
                authorizations += 1
                new = await self.async_client.authorize_after(response.status_code, www, token)
                if new is None:
                    return
                token = new
            else:
                return
            self._token_header(request, token)
            response = yield request
