"""End to end: the real `mcp` 2.3.0 SDK's streamable-HTTP client, authorized by mcp_auth,
against the loopback demo server (MCP resource server + OAuth AS), calling tools."""

from __future__ import annotations

import json

import anyio
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

import mcp_auth
from mcp_auth.httpx2 import McpAuth
from mcp_auth.sdk import OAuthClientProvider


async def call_tools(url: str, auth: httpx2.Auth) -> tuple[str, str]:
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = await session.list_tools()
                assert {t.name for t in tools.tools} >= {"echo", "whoami"}
                echo = await session.call_tool("echo", {"text": "hello through mcp_auth"})
                who = await session.call_tool("whoami", {})
                return echo.content[0].text, who.content[0].text  # type: ignore[union-attr]


def test_mcp_sdk_client_calls_a_tool_through_mcp_auth(demo) -> None:
    events: list[mcp_auth.TraceEvent] = []
    client = mcp_auth.Client(demo.url, observer=events.append, redirect_handler="headless")
    text, who = anyio.run(call_tools, demo.url, McpAuth(client))
    assert text == "hello through mcp_auth"
    assert json.loads(who)["scope"] == "mcp:read mcp:write"
    steps = [e.step for e in events]
    # One authorization for the whole session: discovery, registration, code, token.
    for step in ("protected_resource_metadata", "authorization_server_metadata", "registration", "authorization", "token_exchange"):
        assert steps.count(step) == 1, (step, steps)
    assert client.granted_scope() == "mcp:read mcp:write"


def test_mcp_sdk_step_up(demo_server) -> None:
    """scope-step-up: initialize is open, tools/list needs mcp:basic (401), tools/call needs
    mcp:basic mcp:write (403 insufficient_scope): two authorizations, the second a union."""
    server = demo_server("scope-step-up")
    events: list[mcp_auth.TraceEvent] = []
    client = mcp_auth.Client(server.url, observer=events.append, redirect_handler="headless")

    async def run() -> str:
        async with httpx2.AsyncClient(auth=McpAuth(client), timeout=30) as http:
            async with streamable_http_client(server.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    await session.list_tools()
                    r = await session.call_tool("test-tool", {})
                    return r.content[0].text  # type: ignore[union-attr]

    assert anyio.run(run) == "test"
    assert client.granted_scope() is not None
    assert set(client.granted_scope().split()) == {"mcp:basic", "mcp:write"}
    assert [e.step for e in events].count("token_exchange") == 2


def test_sdk_drop_in_oauth_client_provider_with_reference_storage_and_handlers(demo) -> None:
    """`mcp_auth.sdk.OAuthClientProvider` takes what `mcp.client.auth.OAuthClientProvider` takes:
    the SDK's pydantic client metadata, an async unkeyed TokenStorage holding the SDK's own
    models, and async redirect/callback handlers."""

    class ReferenceStorage:
        def __init__(self) -> None:
            self.tokens: OAuthToken | None = None
            self.client_info: OAuthClientInformationFull | None = None

        async def get_tokens(self) -> OAuthToken | None:
            return self.tokens

        async def set_tokens(self, tokens) -> None:
            # What an SDK storage does with what it is given: pydantic round trip.
            self.tokens = OAuthToken.model_validate_json(tokens.model_dump_json())

        async def get_client_info(self) -> OAuthClientInformationFull | None:
            return self.client_info

        async def set_client_info(self, client_info) -> None:
            self.client_info = OAuthClientInformationFull.model_validate(client_info.model_dump())

    seen: dict[str, str] = {}

    async def redirect_handler(url: str) -> None:
        # The "browser": the demo AS approves at once; keep its redirect for the callback.
        async with httpx2.AsyncClient() as ua:
            r = await ua.get(url)
            seen["location"] = r.headers["location"]

    async def callback_handler() -> AuthorizationCodeResult:
        from urllib.parse import parse_qs, urlsplit

        q = parse_qs(urlsplit(seen["location"]).query)
        return AuthorizationCodeResult(code=q["code"][0], state=q["state"][0], iss=q.get("iss", [None])[0])

    storage = ReferenceStorage()
    provider = OAuthClientProvider(
        server_url=demo.url,
        client_metadata=OAuthClientMetadata(client_name="drop-in", redirect_uris=["http://localhost:3030/callback"]),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )
    text, _ = anyio.run(call_tools, demo.url, provider)
    assert text == "hello through mcp_auth"
    assert storage.tokens is not None and storage.tokens.access_token
    assert storage.client_info is not None and storage.client_info.client_name == "drop-in"
    # A second session reuses the stored token: no new authorization.
    events: list[mcp_auth.TraceEvent] = []
    again = mcp_auth.Client(demo.url, storage=storage, observer=events.append, redirect_handler="headless")
    text, _ = anyio.run(call_tools, demo.url, McpAuth(again))
    assert text == "hello through mcp_auth"
    assert "authorization" not in [e.step for e in events]


def test_httpx_adapter_sync_and_async(demo) -> None:
    import httpx

    from mcp_auth.httpx import McpAuth as HttpxAuth

    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "sync"}}}
    headers = {"Accept": "application/json, text/event-stream"}
    auth = HttpxAuth(demo.url, redirect_handler="headless")
    with httpx.Client(auth=auth) as http:
        r = http.post(demo.url, json=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["result"]["content"][0]["text"] == "sync"

    async def run() -> int:
        async with httpx.AsyncClient(auth=auth) as http:
            r = await http.post(demo.url, json=body, headers=headers)
            return r.status_code

    assert anyio.run(run) == 200
    # The token is never sent to another origin.
    other = httpx.Request("GET", "http://127.0.0.1:9/elsewhere")
    flow = auth.sync_auth_flow(other)
    assert "authorization" not in next(flow).headers


def test_adapter_gives_up_on_a_final_403(demo_server) -> None:
    """scope-retry-limit: the AS never grants mcp:admin, so the server keeps answering 403
    insufficient_scope; the adapter stops after `max_authorizations` authorizations and hands
    the final 403 to the caller, as httpx auth flows do."""
    server = demo_server("scope-retry-limit")
    events: list[mcp_auth.TraceEvent] = []
    auth = McpAuth(server.url, observer=events.append, redirect_handler="headless")

    async def run() -> httpx2.Response:
        async with httpx2.AsyncClient(auth=auth) as http:
            return await http.post(
                server.url,
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                headers={"Accept": "application/json, text/event-stream"},
            )

    r = anyio.run(run)
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
    assert auth.client.max_authorizations == 3
    assert [e.step for e in events].count("token_exchange") == 3


def test_sdk_drop_in_takes_the_sdks_machine_to_machine_metadata() -> None:
    """The SDK's ClientCredentialsOAuthProvider builds `OAuthClientMetadata(redirect_uris=None)`;
    the drop-in keeps that null (the core accepts it) instead of dropping the member, which the
    core would refuse as missing (found by the interop suite's python-sdk-dropin column)."""
    md = OAuthClientMetadata(redirect_uris=None, grant_types=["client_credentials"])
    provider = OAuthClientProvider(
        "http://127.0.0.1:9/mcp", md, None, grant="client_credentials", client_id="m2m", client_secret="s" * 32,
        allow_insecure_server_url=True,
        redirect={"type": "headless"},
    )
    assert isinstance(provider, McpAuth)


def _counters(server) -> dict:  # type: ignore[no-untyped-def]
    import urllib.request

    with urllib.request.urlopen(f"{server.origin}/_demo/counters", timeout=30) as r:
        return json.loads(r.read())


# The demo server changes its resource-server nonce after this many accepted requests
# (examples/demo-server: DPOP_NONCE_USES).
NONCE_USES = 3


def test_sdk_drop_in_follows_the_resource_servers_dpop_nonce(demo_server) -> None:
    """RFC 9449 §9 through the SDK drop-in: the demo server binds tokens to the client's key and
    answers a proof without its current nonce with 401 ``use_dpop_nonce`` + ``DPoP-Nonce``,
    changing the nonce every few requests. The real SDK session runs to the end; the server
    counts one demand per nonce, no refused proof, and a single authorization."""
    server = demo_server("default", "--dpop-nonce", "--counters")
    provider = OAuthClientProvider(
        server.url,
        {"client_name": "dpop nonce", "redirect_uris": ["http://localhost:3000/callback"]},
        mcp_auth.MemoryStorage(),
        redirect={"type": "headless"},
    )

    async def run() -> list[str]:
        async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
            async with streamable_http_client(server.url, http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    texts = []
                    for i in range(5):
                        r = await session.call_tool("echo", {"text": f"call {i}"})
                        texts.append(r.content[0].text)  # type: ignore[union-attr]
                    return texts

    assert anyio.run(run) == [f"call {i}" for i in range(5)]
    c = _counters(server)
    assert c["grants"].get("authorization_code") == 1, c
    assert c["dpop"]["bound_tokens_issued"] == 1, c
    assert c["dpop"]["invalid_proofs"] == 0, c
    # Every nonce was demanded once: requests with a token were accepted in runs of NONCE_USES.
    assert c["dpop"]["nonce_demands"] >= 2, c
    assert provider.client.current_token() is not None


def test_httpx_adapter_follows_the_nonce_and_gives_up_on_a_server_that_never_accepts(demo_server) -> None:
    """The sync httpx adapter: every nonce demand answered once, counted at the server; and a
    nonce that is not new is not retried (the refusal goes to ``authorize_after``, bounded)."""
    import httpx

    from mcp_auth.httpx import McpAuth as SyncMcpAuth

    server = demo_server("default", "--dpop-nonce", "--counters")
    client = mcp_auth.Client(server.url, redirect_handler="headless")
    calls = 2 * NONCE_USES + 1
    with httpx.Client(auth=SyncMcpAuth(client), timeout=30) as http:
        for i in range(calls):
            r = http.post(
                server.url,
                json={"jsonrpc": "2.0", "id": i, "method": "tools/list"},
                headers={"accept": "application/json, text/event-stream"},
            )
            assert r.status_code == 200, r.text
    c = _counters(server)
    assert c["dpop"]["nonce_demands"] == -(-calls // NONCE_USES), c
    assert c["dpop"]["invalid_proofs"] == 0, c
    assert c["grants"].get("authorization_code") == 1, c
    token = client.current_token()
    assert token is not None
    demand = ['DPoP error="use_dpop_nonce"']
    assert client.accept_dpop_nonce(401, demand, "fresh-nonce") is True
    assert client.accept_dpop_nonce(401, demand, "fresh-nonce") is False, "already in use"
    assert client.accept_dpop_nonce(401, ['DPoP error="invalid_token"'], "other") is False
