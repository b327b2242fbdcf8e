"""`mcp_auth.AsyncClient`, revocation at logout, `forget_client`, the authorization URL handed
to the host, and the httpx adapters' DPoP headers: against the loopback demo server (and a
small recording resource server for the DPoP headers)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import anyio
import httpx
import pytest

import mcp_auth as m


def refresh_status(demo: Any, storage: m.MemoryStorage, refresh_token: str) -> tuple[int, str]:
    """A refresh at the demo AS with `refresh_token`, authenticated as the registered client
    (client_secret_basic, as the demo registers): (status, OAuth error)."""
    issuer = next(iter(storage.clients))
    client = storage.clients[issuer]
    form = urllib.parse.urlencode(
        {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if client.client_secret:
        basic = base64.b64encode(f"{client.client_id}:{client.client_secret}".encode()).decode()
        headers["Authorization"] = f"Basic {basic}"
    req = urllib.request.Request(f"{demo.origin}/token", data=form, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, ""
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()).get("error", "")


def test_async_client_calls_and_logout_revokes_at_the_authorization_server(demo) -> None:
    storage = m.MemoryStorage()
    events: list[m.TraceEvent] = []

    async def run() -> tuple[str, m.Revocation, m.Revocation]:
        async with m.AsyncClient(demo.url, storage=storage, observer=events.append, redirect_handler="headless") as ac:
            assert (await ac.probe()).status == 401
            assert (await ac.discover()).issuer == demo.origin
            token = await ac.access_token()
            r = await ac.post_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
            assert r.status == 200 and r.authorizations == 0
            assert await ac.current_token() == token
            first = await ac.logout()
            second = await ac.logout()
            return token, first, second

    token, first, second = anyio.run(run)
    assert (first.status, first.confirmed, first.reason) == ("revoked", True, None)
    assert second.status == "no_tokens" and not second
    revocations = [e for e in events if e.step == "revocation"]
    assert [e.status for e in revocations] == [200, 200], revocations
    assert storage.tokens == {}
    assert storage.clients, "logout keeps the registration"


def test_the_revoked_refresh_token_no_longer_works(demo) -> None:
    storage = m.MemoryStorage()
    c = m.Client(demo.url, storage=storage, redirect_handler="headless")
    c.access_token()
    refresh = storage.tokens[c.resource_key].refresh_token
    assert refresh
    assert c.logout().confirmed
    assert refresh_status(demo, storage, refresh) == (400, "invalid_grant")


def test_access_token_finds_the_metadata_without_an_mcp_request(demo) -> None:
    events: list[m.TraceEvent] = []
    c = m.Client(demo.url, observer=events.append, redirect_handler="headless")
    c.access_token()
    steps = [e.step for e in events]
    assert "probe" not in steps, steps
    assert "mcp_request" not in steps, steps
    assert steps[0] == "protected_resource_metadata", steps


def test_forget_client_makes_the_next_authorization_register_anew(demo) -> None:
    storage = m.MemoryStorage()
    events: list[m.TraceEvent] = []
    c = m.Client(demo.url, storage=storage, observer=events.append, redirect_handler="headless")
    c.access_token()
    c.logout()
    assert c.forget_client() == demo.origin
    assert storage.clients == {}
    c.access_token()
    registrations = [e for e in events if e.step == "registration" and e.status == 201]
    assert len(registrations) == 2


def test_loopback_hands_the_authorization_url_to_the_host_and_never_prints(demo, capfd) -> None:
    shown: list[tuple[str, bool]] = []

    def show(url: str, browser_opened: bool) -> None:
        shown.append((url, browser_opened))
        # The host plays the browser: the demo AS approves at once and redirects to the
        # loopback listener, in the background (this callback must return promptly).
        threading.Thread(target=lambda: urllib.request.urlopen(url, timeout=10).read()).start()

    c = m.Client(demo.url, redirect_handler="loopback", on_authorization_url=show)
    c.access_token()
    assert len(shown) == 1 and shown[0][1] is False
    assert "code_challenge=" in shown[0][0]
    out, err = capfd.readouterr()
    assert "authorize" not in (out + err), (out, err)


def test_loopback_without_a_url_handler_is_refused() -> None:
    with pytest.raises(ValueError, match="on_authorization_url"):
        m.Client("http://127.0.0.1:9/mcp", redirect_handler="loopback")


def test_cancelling_the_task_releases_the_flow_for_the_next_call(demo) -> None:
    """A login waiting for a browser that never comes (300 s) is abandoned by cancelling its
    task: the core call ends with Cancelled and releases the flow lock, so the next call that
    needs the lock (logout) runs at once."""
    import logging

    reached_wait = threading.Event()
    records: list[str] = []

    class Watch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            records.append(f"{record.name}: {message}")
            if record.name == "mcp_auth.authorization" and "waiting on" in message:
                reached_wait.set()

    logger = logging.getLogger("mcp_auth")
    handler, level = Watch(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    shown: list[str] = []
    ac = m.AsyncClient(
        demo.url,
        redirect={"type": "loopback", "port": 0, "timeout_secs": 300, "open_browser": False},
        on_authorization_url=lambda url, opened: shown.append(url),
    )
    figures: dict[str, float] = {}

    async def run() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(ac.access_token)
            assert await anyio.to_thread.run_sync(reached_wait.wait, 30)
            cancelled_at = time.monotonic()
            tg.cancel_scope.cancel()
        # The next call needs the flow lock the abandoned login held.
        revocation = await ac.logout()
        figures["release"] = time.monotonic() - cancelled_at
        assert revocation.status == "no_tokens"

    try:
        anyio.run(run)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    print(f"task cancel to the next call's completion: {figures['release'] * 1000:.1f} ms")
    assert figures["release"] < 5, figures  # generous: the wait itself is 300 s
    assert "mcp_auth.cancel: call cancelled" in records, records
    # The log record carries the URL without its state; the host got the whole URL.
    waiting = next(r for r in records if "waiting on" in r)
    assert "state=%5Bredacted%5D" in waiting and len(shown) == 1
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(shown[0]).query)["state"][0]
    assert state not in "\n".join(records)


def test_a_cancel_token_cancels_one_call_only(demo) -> None:
    c = m.Client(demo.url, redirect_handler="headless")
    token = m.CancelToken()
    token.cancel()
    with pytest.raises(m.CancelledError):
        c.access_token(cancel=token)
    assert token.cancelled
    assert c.access_token(), "other calls are not affected"


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_the_sdk_drop_in_sends_dpop_proofs_for_a_dpop_bound_token(demo) -> None:
    """With ``dpop="always"`` the demo AS binds the token to the client's key (it verifies the
    proof's signature); its resource server then refuses the token unless it comes with the
    DPoP scheme and a valid proof (signature, htm, htu, ath) from that key."""
    import httpx2

    from mcp_auth.sdk import OAuthClientProvider

    provider = OAuthClientProvider(
        demo.url,
        {"client_name": "dpop test", "redirect_uris": ["http://localhost:3000/callback"]},
        m.MemoryStorage(),
        dpop="always",
        redirect={"type": "headless"},
    )
    sent: list[httpx2.Request] = []

    async def record(request: httpx2.Request) -> None:
        sent.append(request)

    async def run() -> list[int]:
        async with httpx2.AsyncClient(auth=provider, timeout=30, event_hooks={"request": [record]}) as http:
            statuses = []
            for i in range(3):
                r = await http.post(
                    demo.url,
                    json={"jsonrpc": "2.0", "id": i, "method": "tools/list"},
                    headers={"accept": "application/json, text/event-stream"},
                )
                statuses.append(r.status_code)
            return statuses

    assert anyio.run(run) == [200, 200, 200]
    token = provider.client.current_token()
    assert token
    ath = base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()
    authorized = [r for r in sent if r.headers.get("authorization", "").startswith("DPoP ")]
    assert len(authorized) >= 3, [r.headers.get("authorization", "")[:6] for r in sent]
    assert not any(r.headers.get("authorization", "").startswith("Bearer") for r in sent)
    jtis = set()
    for r in authorized[-3:]:
        header, payload, _sig = r.headers["dpop"].split(".")
        h, p = _b64json(header), _b64json(payload)
        assert h["typ"] == "dpop+jwt" and "jwk" in h
        assert (p["htm"], p["htu"], p["ath"]) == ("POST", demo.url, ath)
        jtis.add(p["jti"])
    assert len(jtis) == 3, "a fresh proof for every request"


def test_the_httpx_adapter_sends_bearer_for_a_bearer_token(demo) -> None:
    from mcp_auth.httpx import McpAuth

    with httpx.Client(auth=McpAuth(demo.url, redirect_handler="headless")) as http:
        r = http.post(
            demo.url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"accept": "application/json, text/event-stream"},
        )
        assert r.status_code == 200
        assert r.request.headers["authorization"].startswith("Bearer ")
        assert "dpop" not in r.request.headers
