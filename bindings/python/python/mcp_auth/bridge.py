"""Bridge the MCP authorization challenge through a Python proxy or gateway.

A proxy between a (browser) MCP client and an MCP server must hand the server's
``WWW-Authenticate`` challenge on, and let a cross-origin script read it: otherwise the client
cannot discover the authorization server (RFC 9728 ``resource_metadata``) or step up on 403
``insufficient_scope``. These functions compute what to send, with the Rust core's rules
(the ``mcp-auth-bridge`` crate):

- ``bridge_response(status, upstream_headers, origin)``: the downstream status and complete
  header list for an upstream response (hop-by-hop fields dropped, every challenge line kept,
  ``Access-Control-Expose-Headers`` merged, optionally CORS owned and ``resource_metadata``
  rewritten), with the structured ``challenge`` for 401/403;
- ``bridge_error(exc, origin)``: the same for an ``UnauthorizedError`` raised by
  ``mcp_auth.Client.send`` (``None`` for any other error); ``bridge_captured`` for a
  ``CapturedChallenge``;
- ``preflight(request_headers, cors)``, ``upstream_request_headers(request_headers)``,
  ``merge_expose_headers(values)``, ``rewrite_resource_metadata(value, url)``;
- ``relay_protected_resource_metadata(body, resource)`` /
  ``fetch_protected_resource_metadata(url, resource)``: serve the upstream's metadata from the
  proxy when ``resource_metadata`` is rewritten;
- ``RelayedChallenge``: the challenge as data (``to_json``), for non-HTTP channels;
- the ``*_json`` variants take and return the core's JSON forms (as the C ABI does).

Headers are lists of ``(name, value)`` tuples (a dict or ``httpx.Headers`` is accepted too).
Options are keyword arguments (``resource_metadata_url=``, ``cors=``), a ``BridgeOptions``, a
dict or the core's JSON; ``cors`` is a ``CorsPolicy``, a dict such as
``{"allowed_origins": ["https://app.example"]}``, or ``True`` for any origin::

    from mcp_auth.bridge import bridge_response

    down = bridge_response(upstream.status_code, upstream.headers.multi_items(),
                           origin=request.headers.get("origin"),
                           cors={"allowed_origins": ["https://app.example"]})
    return Response(body, status=down.status, headers=down.headers)
"""

from __future__ import annotations

from ._native import (
    ALLOWED_METHODS,
    ALLOWED_REQUEST_HEADERS,
    EXPOSED_HEADERS,
    BridgeOptions,
    CorsPolicy,
    DownstreamResponse,
    RelayedChallenge,
    bridge_captured,
    bridge_error,
    bridge_error_json,
    bridge_response,
    bridge_response_json,
    challenge_json,
    fetch_protected_resource_metadata,
    is_challenge_status,
    merge_expose_headers,
    merge_field_names,
    preflight,
    preflight_json,
    relay_protected_resource_metadata,
    rewrite_resource_metadata,
    upstream_request_headers,
    upstream_request_headers_json,
)

__all__ = [
    "ALLOWED_METHODS",
    "ALLOWED_REQUEST_HEADERS",
    "EXPOSED_HEADERS",
    "BridgeOptions",
    "CorsPolicy",
    "DownstreamResponse",
    "RelayedChallenge",
    "bridge_captured",
    "bridge_error",
    "bridge_error_json",
    "bridge_response",
    "bridge_response_json",
    "challenge_json",
    "fetch_protected_resource_metadata",
    "is_challenge_status",
    "merge_expose_headers",
    "merge_field_names",
    "preflight",
    "preflight_json",
    "relay_protected_resource_metadata",
    "rewrite_resource_metadata",
    "upstream_request_headers",
    "upstream_request_headers_json",
]
