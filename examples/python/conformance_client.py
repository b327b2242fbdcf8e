#!/usr/bin/env python3
"""A conformance-suite client over the ``mcp_auth`` Python package: the same program as the
Rust one (``core/examples/conformance_client.rs``) over the Python surface.

Contract (``@modelcontextprotocol/conformance``): the server URL is the last argument;
``MCP_CONFORMANCE_SCENARIO`` and ``MCP_CONFORMANCE_CONTEXT`` come from the environment. The
client maps the context to client options and runs ``initialize``,
``notifications/initialized``, ``tools/list`` and ``tools/call test-tool`` (with
``MCP_CONFORMANCE_PROTOCOL_VERSION`` >= 2026-07-28: no handshake, every request carries
``_meta``). It holds no OAuth logic: discovery, registration, PKCE, scopes, step-up, client
authentication and retries all happen inside the library (``mcp_auth.Client.send``).

Imports are kept to the minimum (the suite starts many clients at once).
"""

import json
import os
import sys
import threading

#: The CIMD URL the suite expects (basic-cimd); the library uses it only when the AS
#: advertises ``client_id_metadata_document_supported``.
CIMD_URL = "https://conformance-test.local/client-metadata.json"
#: Our own deadline, well under the suite's 30 s per scenario.
DEADLINE_SECS = 25
#: What MCP streamable HTTP clients accept (``mcp_auth::client::MCP_ACCEPT``).
MCP_ACCEPT = "application/json, text/event-stream"
#: The first revision with the stateless wire (no initialize; ``_meta`` on every request).
STATELESS_FROM = "2026-07-28"


def options(server_url: str, scenario: str, context: dict) -> dict:
    """The core client options for this scenario and context (as the Rust client maps them)."""
    o = {
        "server_url": server_url,
        "client_name": "mcp-auth conformance client",
        "client_metadata_url": CIMD_URL,
        "timeout_ms": 10000,
        # The suite's authorization server approves without a login page.
        "redirect": {"type": "headless"},
    }
    if isinstance(context.get("client_id"), str):
        o["client_id"] = context["client_id"]
        for key in ("client_secret", "private_key_pem", "signing_algorithm"):
            if isinstance(context.get(key), str):
                o[key] = context[key]
    if "client-credentials" in scenario:
        o["grant"] = "client_credentials"
    # Workload identity: the context carries the JWT the workload presents (RFC 7523).
    if isinstance(context.get("valid_jwt"), str):
        o["grant"] = "jwt_bearer"
        o["assertion"] = context["valid_jwt"]
    # Enterprise-managed authorization (SEP-990): the IdP side.
    if isinstance(context.get("idp_id_token"), str):
        o["grant"] = "enterprise_managed"
        o["id_token"] = context["idp_id_token"]
        o["idp_token_endpoint"] = context.get("idp_token_endpoint")
        o["idp_client_id"] = context.get("idp_client_id")
        if "idp_client_secret" in context:
            o["idp_client_secret"] = context["idp_client_secret"]
    version = os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION")
    if version is not None:
        o["protocol_version"] = version
    return o


def trace(event) -> None:
    print(f"trace: {event.to_json()}", file=sys.stderr)


def run() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: conformance_client.py URL")
    server_url = sys.argv[-1]
    scenario = os.environ.get("MCP_CONFORMANCE_SCENARIO", "")
    try:
        context = json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT") or "null")
    except ValueError:
        context = None
    if not isinstance(context, dict):
        context = {}
    protocol_version = os.environ.get("MCP_CONFORMANCE_PROTOCOL_VERSION", "2025-11-25")
    stateless = protocol_version >= STATELESS_FROM

    from mcp_auth import Client, __version__  # after the deadline timer is armed (see main)

    opts = options(server_url, scenario, context)
    client = Client(opts.pop("server_url"), observer=trace, **opts)
    session = None

    def send(method: str, params: dict | None = None, id: int | None = None):
        nonlocal session
        body: dict = {"jsonrpc": "2.0", "method": method}
        if stateless:
            # 2026-07-28 wire: every message carries its protocol version and the client
            # capabilities in `_meta`.
            params = dict(params or {})
            params["_meta"] = {
                "io.modelcontextprotocol/protocolVersion": protocol_version,
                "io.modelcontextprotocol/clientCapabilities": {},
            }
        if params is not None:
            body["params"] = params
        if id is not None:
            body["id"] = id
        headers = [
            ("Content-Type", "application/json"),
            ("Accept", MCP_ACCEPT),
            ("MCP-Protocol-Version", protocol_version),
            ("Mcp-Method", method),
        ]
        if session is not None:
            headers.append(("Mcp-Session-Id", session))
        response = client.send("POST", server_url, headers=headers, body=json.dumps(body))
        session = response.header("mcp-session-id") or session
        print(f"{method} -> {response.status}", file=sys.stderr)
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{method} answered {response.status}")
        return response.json_message()

    # 2026-07-28 is stateless: no initialize handshake (every request carries `_meta`).
    if not stateless:
        send(
            "initialize",
            {
                "protocolVersion": protocol_version,
                "capabilities": {},
                "clientInfo": {"name": "mcp-auth-conformance", "version": __version__},
            },
            1,
        )
        send("notifications/initialized")
    send("tools/list", {}, 2)
    send("tools/call", {"name": "test-tool", "arguments": {}}, 3)


def deadline() -> None:
    print("conformance client: deadline reached", file=sys.stderr)
    sys.stderr.flush()
    os._exit(3)


def main() -> int:
    timer = threading.Timer(DEADLINE_SECS, deadline)
    timer.daemon = True
    timer.start()
    try:
        run()
    except Exception as e:  # every failure is the client's: report it and exit 1
        print(f"conformance client: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
