"""The exceptions of mcp_auth: one class per kind of the Rust core's ``ErrorKind``.

``McpAuthError`` is the base of everything the package raises. The reference SDK's names are
kept: ``OAuthFlowError`` with its subclasses ``OAuthTokenError`` and ``OAuthRegistrationError``;
every kind the reference reports as an ``OAuthFlowError`` (discovery, authorization, security
checks, ...) is a subclass of it here too, so ``except OAuthFlowError`` keeps working for code
written against ``mcp.client.auth``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ._native import CapturedChallenge

__all__ = [
    "AddressRefusedError",
    "AuthorizationError",
    "CallbackError",
    "CancelledError",
    "CertificateError",
    "DiscoveryError",
    "ForeignOriginError",
    "InsecureUrlError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidResponseError",
    "McpAuthError",
    "OAuthFlowError",
    "OAuthRegistrationError",
    "OAuthTokenError",
    "RequestTimeoutError",
    "ResponseTooLargeError",
    "SecurityCheckError",
    "StorageError",
    "TransportError",
    "UnauthorizedError",
    "UnsupportedError",
]


class McpAuthError(Exception):
    """Base class of every mcp_auth error.

    Attributes (``None`` when they do not apply):
        kind: the core's error kind, e.g. ``"security_check"``.
        code: its stable numeric code (the C ABI status).
        error, error_description, error_uri: the OAuth error triple (RFC 6749 §5.2, RFC 6750 §3)
            the server sent.
        status: the HTTP status that ended the step.
        check: for a failed security check, which one (``"metadata_issuer"``, ``"state"``, ...).
        www_authenticate: the ``WWW-Authenticate`` values of a final 401/403.
        challenge: those values parsed (a ``CapturedChallenge``).
    """

    kind: str = "error"
    code: int | None = None
    error: str | None
    error_description: str | None
    error_uri: str | None
    status: int | None
    check: str | None
    www_authenticate: list[str]
    challenge: CapturedChallenge | None

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.error = None
        self.error_description = None
        self.error_uri = None
        self.status = None
        self.check = None
        self.www_authenticate = []
        self.challenge = None

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class OAuthFlowError(McpAuthError):
    """The authorization flow failed (the reference SDK's ``OAuthFlowError``)."""

    kind = "flow"


class OAuthTokenError(OAuthFlowError):
    """The token endpoint refused a grant or returned an unusable token (reference name)."""

    kind = "token"


class OAuthRegistrationError(OAuthFlowError):
    """Client registration failed or its result is unusable (reference name)."""

    kind = "registration"


class DiscoveryError(OAuthFlowError):
    """Protected resource or authorization server metadata discovery failed."""

    kind = "discovery"


class AuthorizationError(OAuthFlowError):
    """The authorization step failed (redirect handler, denial, no code)."""

    kind = "authorization"


class UnauthorizedError(OAuthFlowError):
    """The server still refuses after the allowed authorizations."""

    kind = "unauthorized"


class SecurityCheckError(OAuthFlowError):
    """A security check failed (issuer, ``iss``, resource, ``state``, credential binding)."""

    kind = "security_check"


class UnsupportedError(OAuthFlowError):
    """The server lacks a capability the client requires (e.g. PKCE S256)."""

    kind = "unsupported"


class InvalidArgumentError(McpAuthError, ValueError):
    """An argument or option is not acceptable; nothing was sent."""

    kind = "invalid_argument"


class InvalidResponseError(McpAuthError, ValueError):
    """A server (or a document given to a model) is not what the protocol allows."""

    kind = "invalid_response"


class TransportError(McpAuthError):
    """The HTTP exchange failed below HTTP (DNS, connect, TLS, I/O)."""

    kind = "transport"


class RequestTimeoutError(TransportError, TimeoutError):
    """The request did not complete within the timeout."""

    kind = "timeout"


class ResponseTooLargeError(TransportError):
    """The response body exceeded the configured cap."""

    kind = "response_too_large"


class CertificateError(TransportError):
    """The TLS certificate check failed: the server's certificate is not trusted (a private CA:
    pass ``tls={"ca_file": ...}`` or set ``SSL_CERT_FILE``) or not valid for the host, or the
    server refused the client certificate (``tls={"client_cert_file": ..., "client_key_file": ...}``)."""

    kind = "certificate"


class InsecureUrlError(McpAuthError):
    """An endpoint is not HTTPS and not loopback."""

    kind = "insecure_url"


class AddressRefusedError(McpAuthError):
    """A server-supplied URL points at an address the address policy refuses (loopback,
    link-local, private, ... while the MCP server is not on one), or carries userinfo. Nothing
    was sent to it. Allow such addresses with ``allowed_addresses=[...]``."""

    kind = "address_refused"


class ForeignOriginError(McpAuthError):
    """``send`` was given a URL on another origin than the MCP server's: the token is bound to
    that origin. Nothing was sent. ``cross_origin="without_token"`` sends such requests
    without the token instead."""

    kind = "foreign_origin"


class StorageError(McpAuthError):
    """The token storage failed (a storage object's exception is the ``__cause__``)."""

    kind = "storage"


class CancelledError(McpAuthError):
    """The call was cancelled (``Client.cancel()``, or Ctrl-C / task cancellation reaching a
    call in progress) before it completed. The client stays usable."""

    kind = "cancelled"


class InternalError(McpAuthError):
    """A bug in mcp_auth."""

    kind = "internal"


class CallbackError(McpAuthError):
    """A callback (the trace observer) raised; the exception is the ``__cause__``."""

    kind = "callback"


# The core's ErrorKind::name() → class. The native module raises through this table; a test
# checks it against the core's list of kinds.
_BY_KIND: dict[str, type[McpAuthError]] = {
    cls.kind: cls
    for cls in (
        InvalidArgumentError,
        TransportError,
        RequestTimeoutError,
        ResponseTooLargeError,
        CertificateError,
        InvalidResponseError,
        DiscoveryError,
        OAuthRegistrationError,
        AuthorizationError,
        OAuthTokenError,
        UnauthorizedError,
        SecurityCheckError,
        InsecureUrlError,
        UnsupportedError,
        AddressRefusedError,
        ForeignOriginError,
        StorageError,
        CancelledError,
        InternalError,
        CallbackError,
    )
}
