"""``mcp_auth.Client``: the core client with Python storage, redirect handler and observer."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from . import _native
from ._compat import resolve
from ._native import (
    CancelToken,
    Discovery,
    ProbeResult,
    Response,
    Revocation,
    StreamedResponse,
    TraceEvent,
)
from ._storage import adapt_storage

if TYPE_CHECKING:
    from typing_extensions import deprecated
else:
    _F = TypeVar("_F")

    def deprecated(message: str) -> Callable[[_F], _F]:
        # Type checkers see typing_extensions.deprecated; at run time the method warns itself
        # (no runtime dependency on typing_extensions).
        return lambda f: f

__all__ = ["Client", "RedirectHandler"]

#: ``handler(authorization_url)`` returning the URL (or just the query) the authorization server
#: redirected the user agent to; or an object with ``code``/``state``/``iss`` (the reference's
#: ``AuthorizationCodeResult``), a ``(code, state)`` tuple, or a dict. May be async.
RedirectHandler = Callable[[str], Any]


def redirect_query(result: Any) -> str:
    """The redirect query for what a redirect handler returned."""
    if isinstance(result, str):
        return result
    if isinstance(result, tuple):
        code, state, *rest = (*result, None)
        iss = rest[0] if rest else None
        fields = {"code": code, "state": state, "iss": iss}
    elif isinstance(result, Mapping):
        fields = {k: result.get(k) for k in ("code", "state", "iss")}
    elif hasattr(result, "code"):
        fields = {k: getattr(result, k, None) for k in ("code", "state", "iss")}
    else:
        raise TypeError(
            "a redirect handler must return the redirect URL, its query, (code, state), "
            f"a dict or an object with .code/.state/.iss, not {type(result).__name__}"
        )
    return urlencode({k: v for k, v in fields.items() if v is not None})


def _wrap_redirect(handler: RedirectHandler) -> Callable[[str], str]:
    def call(url: str) -> str:
        return redirect_query(resolve(handler(url)))

    return call


class Client:
    """The MCP authorization client for one MCP server.

    ``send`` (and ``post_json``) attach the bearer token and run the whole MCP authorization
    flow when the server answers 401 (or 403 ``insufficient_scope``): discovery, registration,
    authorization with PKCE, token exchange, refresh, step-up. Thread-safe: share one client.
    Every blocking call releases the GIL.

    Args:
        server_url: the MCP endpoint, e.g. ``https://mcp.example.com/mcp``.
        storage: where tokens and registrations live: ``None`` or ``"memory"`` (in memory),
            ``"file"`` (the default credentials file), a path (a credentials file; a leading
            ``~`` is expanded), the core's option as a dict (``{"type": "file", "path": ...}``),
            a ``FileStorage``, or an object (see
            ``mcp_auth.TokenStorage`` / ``mcp_auth.KeyedTokenStorage``).
        redirect_handler: how the authorization redirect is completed: ``None`` or
            ``"browser"`` (the default: listen on 127.0.0.1, RFC 8252, and open the system
            browser; ``on_authorization_url`` also shows the URL; without a browser and without
            ``on_authorization_url`` a login fails at once saying so), ``"loopback"`` (the
            same without a browser: ``on_authorization_url`` shows the URL, and is required),
            ``"headless"`` (follow the authorization URL without a browser: only for
            auto-approving servers and tests), or a callable (see ``RedirectHandler``).
        redirect_uri: the redirect URI a callable handler receives on.
        observer: ``observer(TraceEvent)`` is called for every step of the flow.
        on_authorization_url: ``on_authorization_url(url, browser_opened)`` receives the
            authorization URL of a ``"loopback"``/``"browser"`` redirect, to show it to the
            user (the library never prints it; it logs it at INFO with ``state`` redacted),
            and of a ``{"type": "paste"}`` redirect.
        on_device_code: ``on_device_code(info)`` receives the RFC 8628 device authorization
            of a ``{"type": "device"}`` redirect as a dict (``verification_uri``,
            ``verification_uri_complete`` or ``None``, ``user_code``, ``expires_in``), to show
            it to the user (without it, the code is logged at WARNING on the ``mcp_auth``
            logger; the library never prints it).
        client_metadata: RFC 7591 metadata for dynamic registration. A dict (any mapping) is
            the options JSON's ``client_metadata``: its members are laid over what the client
            registers by default (``token_endpoint_auth_method``, ``scope``, ``grant_types``,
            ``client_uri``, ``logo_uri``, ``contacts``, ``software_id``, …; a member given
            wins, the redirect URI a redirect handler dictates stays first). An
            ``OAuthClientMetadata`` or the reference SDK's pydantic model (and a dict given with
            ``client_id``) replaces the metadata as a whole.
        **options: every other core option (``mcp_auth::options::ClientOptions``):
            ``client_name``, ``scope``, ``redirect_uris``, ``client_metadata_url``,
            ``client_id``, ``client_secret``, ``token_endpoint_auth_method``,
            ``private_key_pem``, ``signing_algorithm``, ``client_issuer``, ``grant``
            (``authorization_code``, ``client_credentials``, ``jwt_bearer``,
            ``enterprise_managed``), ``assertion``, ``idp_token_endpoint``, ``idp_client_id``,
            ``idp_client_secret``, ``id_token``, ``dpop``, ``timeout`` (seconds) or
            ``timeout_ms``, ``max_body_bytes``, ``user_agent``, ``protocol_version``,
            ``require_pkce_s256``, ``refresh_skew_secs``, ``max_authorizations``,
            ``preferred_issuer``, ``allow_insecure_server_url``, ``allowed_addresses`` (host
            names, ``*.domain``, addresses or CIDR blocks that server-supplied URLs may reach
            although they are loopback, link-local or private), ``cross_origin``
            (``"refuse"``, the default, or ``"without_token"``: what ``send`` does with a URL on
            another origin than the server's), ``provider`` (a provider profile: ``auto``,
            ``none``, ``entra``, ``auth0``, ``google``, ``github``, ``slack``, ``cognito``),
            ``overrides`` (per-server overrides: ``resource``, ``authorization_params``,
            ``token_params``, ``prompt``, ``scope``, ``drop_scopes``, ``authorization_server``,
            ``trusted_issuers``, ``tenant_issuer``; docs/providers.md), and ``redirect`` (the
            core's dict form, instead of ``redirect_handler``: also ``{"type": "paste"}`` and
            ``{"type": "device"}``). An unknown option raises
            ``InvalidArgumentError``.
    """

    def __init__(
        self,
        server_url: str,
        *,
        storage: Any = None,
        redirect_handler: RedirectHandler | str | None = None,
        redirect_uri: str | None = None,
        observer: Callable[[TraceEvent], Any] | None = None,
        client_metadata: Any = None,
        on_authorization_url: Callable[[str, bool], Any] | None = None,
        on_device_code: Callable[[dict[str, Any]], Any] | None = None,
        **options: Any,
    ) -> None:
        opts: dict[str, Any] = {"server_url": server_url}
        timeout = options.pop("timeout", None)
        if timeout is not None:
            opts["timeout_ms"] = int(float(timeout) * 1000)
        storage_obj = None
        if storage is None or storage == "memory":
            pass
        elif storage == "file":
            opts["storage"] = {"type": "file"}
        elif isinstance(storage, _native.FileStorage):
            # The same file, opened by the core directly (no Python round trip per call).
            opts["storage"] = {"type": "file", "path": os.fspath(storage.path)}
        elif isinstance(storage, (str, os.PathLike)):
            opts["storage"] = {"type": "file", "path": os.path.expanduser(os.fspath(storage))}
        elif isinstance(storage, Mapping):
            opts["storage"] = dict(storage)
            if isinstance(opts["storage"].get("path"), (str, os.PathLike)):
                opts["storage"]["path"] = os.path.expanduser(os.fspath(opts["storage"]["path"]))
        else:
            storage_obj = adapt_storage(storage)
        handler = None
        if redirect_handler is None:
            pass  # the core's default: the loopback browser for the authorization code grant
        elif redirect_handler == "headless":
            opts["redirect"] = {"type": "headless"}
        elif redirect_handler in ("loopback", "browser"):
            if redirect_handler == "loopback" and on_authorization_url is None:
                raise ValueError(
                    'redirect_handler="loopback" opens no browser: pass on_authorization_url= to '
                    "show the URL to the user (mcp_auth never prints it)"
                )
            opts["redirect"] = {"type": "loopback", "open_browser": redirect_handler == "browser"}
        elif callable(redirect_handler):
            handler = _wrap_redirect(redirect_handler)
        else:
            raise TypeError(f"unknown redirect_handler {redirect_handler!r}")
        opts.update(options)
        if isinstance(client_metadata, Mapping) and opts.get("client_id") is None:
            # The options JSON's member (merged over the defaults). With a pre-registered
            # client_id it would have no effect, which the options refuse; the drop-in always
            # passes the SDK's metadata, so it keeps the whole-object path there.
            opts["client_metadata"] = dict(client_metadata)
            client_metadata = None
        self._native = _native.Client(
            _json_text(opts),
            storage=storage_obj,
            redirect_handler=handler,
            redirect_uri=redirect_uri,
            observer=observer,
            client_metadata=client_metadata,
            on_authorization_url=on_authorization_url,
            on_device_code=on_device_code,
        )

    @property
    def server_url(self) -> str:
        return self._native.server_url

    @property
    def resource_key(self) -> str:
        """The storage key of this server's tokens (its canonical resource URL)."""
        return self._native.resource_key

    @property
    def redirect_uri(self) -> str:
        return self._native.redirect_uri

    @property
    def max_authorizations(self) -> int:
        """How many tokens one request may acquire before the client gives up (option
        ``max_authorizations``, default 3); the httpx adapters bound their retries with it."""
        return self._native.max_authorizations

    def send(
        self,
        method: str,
        url: str | None = None,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        json: Any = None,
        cancel: CancelToken | None = None,
    ) -> Response:
        """Send a request (default URL: the MCP endpoint) with the bearer token, authorizing
        on 401 and stepping up on 403 ``insufficient_scope``, then retrying.

        Every call takes ``cancel``: a ``CancelToken`` whose ``cancel()`` (from any thread)
        makes this call alone raise ``CancelledError`` promptly."""
        pairs, body = _request_parts(headers, body, json)
        return self._native.send(method, url or self.server_url, pairs, body, cancel=cancel)

    def send_streamed(
        self,
        method: str,
        url: str | None = None,
        *,
        headers: Mapping[str, str] | list[tuple[str, str]] | None = None,
        body: bytes | str | None = None,
        json: Any = None,
        cancel: CancelToken | None = None,
    ) -> StreamedResponse:
        """``send``, returning as soon as the final response's head has arrived, with the body
        to be read as it comes: ``read(n)``, ``readinto``, ``iter_bytes(chunk_size)`` (or
        iterate the response), or ``events()`` for a ``text/event-stream`` (a POST answered
        with server-sent events, a GET stream). Use it as a context manager, or ``close()`` it:
        closing ends the connection.

        The authorization flow runs first, exactly as in ``send``. MCP limits apply, not the
        OAuth ones: no cap on the body unless the ``stream_max_body_bytes`` option sets one,
        and ``stream_idle_timeout_ms`` (not ``timeout``) between reads. Reads release the GIL;
        Ctrl-C interrupts them on the main thread (``KeyboardInterrupt``, the stream closed),
        and cancelling ``cancel`` ends them with ``CancelledError``."""
        pairs, body = _request_parts(headers, body, json)
        return self._native.send_streamed(
            method, url or self.server_url, pairs, body, cancel=cancel
        )

    def post_json(self, message: Any, *, cancel: CancelToken | None = None) -> Response:
        """POST a JSON-RPC message (a dict, or JSON text/bytes) to the MCP endpoint."""
        if not isinstance(message, (bytes, str)):
            message = _json_dumps(message)
        return self._native.post_json(message, cancel=cancel)

    def probe(self, *, cancel: CancelToken | None = None) -> ProbeResult:
        """One unauthenticated ``initialize`` POST: the status and the challenge."""
        return self._native.probe(cancel=cancel)

    def discover(self, *, cancel: CancelToken | None = None) -> Discovery:
        """Run discovery (protected resource metadata, then authorization server metadata)."""
        return self._native.discover(cancel=cancel)

    def access_token(self, *, cancel: CancelToken | None = None) -> str:
        """A valid access token, refreshing or authorizing if needed."""
        return self._native.access_token(cancel=cancel)

    def current_token(self, *, cancel: CancelToken | None = None) -> str | None:
        """The token to attach to a request your own HTTP stack sends: loaded from storage and
        refreshed when about to expire (one refresh for all threads), or ``None``; never starts
        an authorization."""
        return self._native.current_token(cancel=cancel)

    def authorize_after(
        self,
        status: int,
        www_authenticate: list[str],
        rejected_token: str | None = None,
        *,
        cancel: CancelToken | None = None,
    ) -> str | None:
        """What ``send`` does on a refusal, for a 401/403 your own HTTP stack received with
        ``rejected_token`` (or no token): refresh, authorize, or step up (403
        ``insufficient_scope``, scopes unioned), once for all threads, and return the token to
        retry with. If another thread already replaced ``rejected_token``, that token is
        returned without a new authorization. ``None`` when the answer is final (a 403 without
        ``insufficient_scope``). Bound your retries (see ``max_authorizations``).

        Raises ``InvalidArgumentError`` for a status other than 401 and 403."""
        return self._native.authorize_after(
            status, list(www_authenticate), rejected_token, cancel=cancel
        )

    def authorization_headers(self, method: str, url: str, token: str) -> list[tuple[str, str]]:
        """The headers that authorize a request your own HTTP stack sends with ``token``, as
        ``send`` would: ``Authorization: Bearer <token>``, or for a DPoP-bound token (RFC 9449)
        ``Authorization: DPoP <token>`` and a fresh ``DPoP`` proof for ``method`` and ``url``.
        Call it for every request (a proof is single-use)."""
        return self._native.authorization_headers(method, url, token)

    def accept_dpop_nonce(self, status: int, www_authenticate: list[str], dpop_nonce: str | None) -> bool:
        """For a refusal your own HTTP stack received: whether the resource server demands a
        DPoP nonce (RFC 9449 §9: a 401 whose ``DPoP`` challenge says
        ``error="use_dpop_nonce"``; ``dpop_nonce`` is its ``DPoP-Nonce`` header). ``True`` when
        it does, a DPoP-bound token is held and the nonce is new: every proof now carries it, so
        send the same request again with fresh ``authorization_headers`` (same token, no
        authorization). ``False`` otherwise: go on with ``authorize_after``. ``send`` and the
        httpx adapters do this by themselves."""
        return self._native.accept_dpop_nonce(status, list(www_authenticate), dpop_nonce)

    @deprecated("Client.reauthorize() is deprecated; use Client.authorize_after()")
    def reauthorize(
        self, status: int, www_authenticate: list[str], rejected_token: str | None = None
    ) -> str | None:
        """Deprecated alias of ``authorize_after`` (the name the Rust and C APIs use); emits
        ``DeprecationWarning``."""
        warnings.warn(
            "Client.reauthorize() is deprecated; use Client.authorize_after()",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._native.authorize_after(status, list(www_authenticate), rejected_token)

    def cancel(self) -> None:
        """Cancel every call in progress on this client, from any thread (to cancel one call,
        give it a ``CancelToken``): each raises
        ``CancelledError`` promptly (an HTTP request already on the wire, or a redirect
        handler callback, finishes first). Calls started afterwards run normally. Ctrl-C during
        a blocking call on the main thread does this by itself and raises KeyboardInterrupt."""
        self._native.cancel()

    def granted_scope(self) -> str | None:
        """The scope of the token held, if any."""
        return self._native.granted_scope()

    def logout(self, *, cancel: CancelToken | None = None) -> Revocation:
        """Log out: revoke the refresh and access tokens at the authorization server's
        ``revocation_endpoint`` (RFC 7009), then forget them (in memory and in storage)
        **whatever the outcome**. The result says what the server did (``.status``:
        ``"revoked"``, ``"no_tokens"``, ``"unsupported"`` or ``"failed"`` with ``.reason``;
        ``.confirmed``). Registrations are kept (see ``forget_client``)."""
        return self._native.logout(cancel=cancel)

    def forget_client(self, *, cancel: CancelToken | None = None) -> str:
        """Forget the client registration for this server's authorization server (in memory
        and in storage: the next authorization registers anew); returns that server's issuer.
        Tokens are kept: ``logout`` first."""
        return self._native.forget_client(cancel=cancel)

    def close(self) -> None:
        """Release the client (nothing is pending between calls; this drops the reference)."""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(server_url={self.server_url!r})"


def _json_text(value: Any) -> str:
    import json  # lazily, like everything not needed to import mcp_auth

    return json.dumps(value, separators=(",", ":"))


def _request_parts(
    headers: Mapping[str, str] | list[tuple[str, str]] | None, body: bytes | str | None, json: Any
) -> tuple[list[tuple[str, str]], bytes | str | None]:
    """The header pairs and body of ``send``: ``json`` (when given) becomes the body, with a
    JSON content type unless the headers name one."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
    if json is not None:
        body = _json_dumps(json)
        if not any(k.lower() == "content-type" for k, _ in pairs):
            pairs.append(("Content-Type", "application/json"))
    return pairs, body


def _json_dumps(value: Any) -> bytes:
    return _json_text(value).encode()
