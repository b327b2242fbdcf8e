"""Drop-in for the official MCP Python SDK's ``OAuthClientProvider`` (``mcp`` 2.3.0).

Change ``from mcp.client.auth import OAuthClientProvider`` to
``from mcp_auth.sdk import OAuthClientProvider``: the constructor is the same, and the result
is an ``httpx2.Auth`` that runs the flow in the Rust core. Storage may be the SDK's
``TokenStorage`` (async, unkeyed) or a keyed one; ``redirect_handler(url)`` and
``callback_handler() -> AuthorizationCodeResult`` may be async, as in the SDK. Without handlers
the login runs in the system browser on a loopback listener at the metadata's redirect URI
(RFC 8252); ``redirect={"type": "headless"}`` completes it without one (auto-approving
servers, tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._client import Client, redirect_query
from ._compat import resolve
from ._native import is_valid_client_metadata_url
from .httpx2 import McpAuth

__all__ = ["OAuthClientProvider"]


class OAuthClientProvider(McpAuth):
    """``mcp.client.auth.OAuthClientProvider``'s constructor over mcp_auth."""

    def __init__(
        self,
        server_url: str,
        client_metadata: Any,
        storage: Any,
        redirect_handler: Callable[[str], Any] | None = None,
        callback_handler: Callable[[], Any] | None = None,
        client_metadata_url: str | None = None,
        validate_resource_url: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        if client_metadata_url is not None and not is_valid_client_metadata_url(client_metadata_url):
            raise ValueError(
                "client_metadata_url must be a valid HTTPS URL with a non-root pathname, "
                f"got: {client_metadata_url}"
            )
        if validate_resource_url is not None:
            raise TypeError(
                "validate_resource_url is not supported: mcp_auth always applies the RFC 9728 "
                "§3.3 resource check"
            )
        handler = None
        if callback_handler is not None:

            def handler(url: str) -> str:
                if redirect_handler is not None:
                    resolve(redirect_handler(url))
                return redirect_query(resolve(callback_handler()))

        elif redirect_handler is not None:
            raise ValueError("redirect_handler needs a callback_handler to receive the code")
        if client_metadata_url is not None:
            options["client_metadata_url"] = client_metadata_url
        if hasattr(client_metadata, "model_dump") and getattr(client_metadata, "redirect_uris", ()) is None:
            # The SDK's model for a machine-to-machine client (its ClientCredentialsOAuthProvider
            # builds one) has `redirect_uris=None`: keep it as null, which the core accepts,
            # rather than dropping it with the other unset members (then it would be missing).
            client_metadata = dict(client_metadata.model_dump(mode="json", exclude_none=True), redirect_uris=None)
        super().__init__(
            Client(
                server_url,
                storage=storage,
                redirect_handler=handler,
                client_metadata=client_metadata,
                **options,
            )
        )
