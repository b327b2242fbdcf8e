"""Many Python threads sharing one `Client` whose stored token has expired by the clock: exactly
one refresh, no lost token (issue 8); and no `repr()`/`str()` of a model, a result or an
exception ever shows an access token, refresh token, client secret, code or PKCE verifier."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

import mcp_auth as m
from mcp_auth import bridge

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}}
THREADS = 16


class CountingStorage(m.MemoryStorage):
    """A keyed storage that counts writes (the core calls it from many threads)."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.token_writes = 0

    def set_tokens(self, resource: str, tokens: m.OAuthToken) -> None:
        with self.lock:
            self.token_writes += 1
            super().set_tokens(resource, tokens)


def expired_storage(demo) -> tuple[CountingStorage, m.OAuthToken, str]:
    """A storage holding a real registration and a real token (with a refresh token) whose
    `expires_at` lies in the past, as a restarted host finds it."""
    seed = m.MemoryStorage()
    client = m.Client(demo.url, storage=seed, redirect_handler="headless")
    client.access_token()
    token = seed.tokens[client.resource_key]
    assert token.refresh_token
    expired = token.with_expiry_from(0)  # expires_at = 0 + expires_in: long ago
    assert expired.is_expired()
    store = CountingStorage()
    store.clients = dict(seed.clients)
    store.tokens[client.resource_key] = expired
    return store, expired, client.resource_key


def hammer(n: int, work) -> list:
    """Run `work(i)` on `n` threads released at once; the results, or the first exception."""
    barrier = threading.Barrier(n)
    results: list = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("round_", range(3))
def test_threads_sharing_an_expired_client_refresh_once(demo, round_: int) -> None:
    store, expired, key = expired_storage(demo)
    events: list[m.TraceEvent] = []
    lock = threading.Lock()

    def observe(e: m.TraceEvent) -> None:
        with lock:
            events.append(e)

    client = m.Client(demo.url, storage=store, observer=observe, redirect_handler="headless")

    def work(i: int):
        # Every entry point that loads the token: send, current_token, and the httpx flow.
        if i % 3 == 0:
            return client.current_token()
        if i % 3 == 1:
            r = client.post_json(CALL)
            assert r.status == 200 and r.json()["result"]["content"][0]["text"] == "hi"
            return r.authorizations
        import httpx

        from mcp_auth.httpx import McpAuth

        with httpx.Client(auth=McpAuth(client)) as h:
            r = h.post(demo.url, json=CALL, headers={"Accept": "application/json, text/event-stream"})
        assert r.status_code == 200, r.text
        return r.status_code

    results = hammer(THREADS, work)
    steps = [e.step for e in events]
    refreshes = [e for e in events if e.step == "refresh"]
    assert len(refreshes) == 1, steps
    assert refreshes[0].status == 200 and refreshes[0].outcome == "ok"
    for step in ("token_exchange", "authorization", "registration"):
        assert step not in steps
    assert store.token_writes == 1
    # No request was refused: the refreshed token was sent by everyone.
    assert all(e.status == 200 for e in events if e.step == "mcp_request"), steps
    new = store.tokens[key]
    assert new.access_token != expired.access_token and new.refresh_token != expired.refresh_token
    assert not new.is_expired()
    assert {r for i, r in enumerate(results) if i % 3 == 0} == {new.access_token}
    # The send threads each acquired at most the one shared refresh.
    assert sum(r for i, r in enumerate(results) if i % 3 == 1) <= 1
    # No lost token: the stored refresh token is the live one (the demo AS rotates them, so a
    # second refresh of the old one would have failed); a restarted host refreshes with it.
    store.tokens[key] = new.with_expiry_from(0)
    again: list[m.TraceEvent] = []
    fresh = m.Client(demo.url, storage=store, observer=again.append, redirect_handler="headless").current_token()
    assert fresh is not None and fresh != new.access_token
    assert [(e.step, e.status) for e in again if e.step == "refresh"] == [("refresh", 200)]


def test_threads_reauthorizing_after_one_rejection_share_one_token(demo) -> None:
    """Every thread hands the client the same rejected token (as httpx flows do after a 401):
    one refresh, and every thread gets the same new token."""
    store, expired, key = expired_storage(demo)
    events: list[m.TraceEvent] = []
    client = m.Client(demo.url, storage=store, observer=events.append, redirect_handler="headless")
    www = [f'Bearer error="invalid_token", resource_metadata="{demo.origin}/.well-known/oauth-protected-resource/mcp"']
    results = hammer(THREADS, lambda _: client.authorize_after(401, www, expired.access_token))
    assert len(set(results)) == 1 and results[0] == store.tokens[key].access_token
    steps = [e.step for e in events]
    assert steps.count("refresh") + steps.count("token_exchange") == 1, steps
    assert store.token_writes == 1
    with pytest.raises(m.InvalidArgumentError):
        client.authorize_after(500, www, None)
    # A plain 403 (no insufficient_scope) is final.
    assert client.authorize_after(403, ['Bearer error="invalid_token"'], results[0]) is None


# ---- Secrets never shown ----------------------------------------------------------------------


def shown(obj: object) -> str:
    """Everything a log line could show of `obj`: str, repr, and for exceptions every
    attribute and the cause."""
    parts = [str(obj), repr(obj)]
    if isinstance(obj, BaseException):
        parts += [repr(v) for v in vars(obj).values()]
        parts += [repr(obj.args), repr(obj.__cause__), repr(obj.__context__)]
    return "\n".join(parts)


def assert_hidden(objs, secrets) -> None:
    secrets = [s for s in secrets if s]
    assert secrets
    for o in objs:
        text = shown(o)
        for s in secrets:
            assert s not in text, (type(o).__name__, s, text)


def test_models_never_show_secrets() -> None:
    at, rt, idt, cs, rat, ver = "AT-0123456789", "RT-0123456789", "IDT-0123456789", "CS-0123456789", "RAT-0123456789", "V" * 43
    token = m.OAuthToken(access_token=at, refresh_token=rt, id_token=idt, expires_in=60, scope="a")
    info = m.OAuthClientInformationFull(
        client_id="c", client_secret=cs, registration_access_token=rat, client_name="n", redirect_uris=["http://127.0.0.1/cb"]
    )
    pkce = m.PKCEParameters.from_verifier(ver)
    objs: list[object] = [
        token,
        token.with_expiry_from(0),
        m.OAuthToken.from_json(token.to_json()),
        info,
        m.OAuthClientInformationFull.model_validate(info.model_dump()),
        pkce,
        m.PKCEParameters.generate(),
        # Secret members where a model does not expect them (extras, nested) are hidden too.
        m.OAuthClientMetadata(client_name="n", redirect_uris=["http://127.0.0.1/cb"], client_secret=cs, registration_access_token=rat, jwks={"keys": [], "access_token": at}),
        m.OAuthClientMetadata.model_validate(info.model_dump()),
        m.OAuthMetadata(issuer="https://as.example", authorization_endpoint="https://as.example/a", token_endpoint="https://as.example/t", code=at, extra_doc={"refresh_token": rt}),
        m.ProtectedResourceMetadata(resource="https://rs.example/mcp", authorization_servers=["https://as.example"], assertion=idt),
        m.OAuthToken(access_token=at, extra={"nested": {"client_secret": cs}}),
    ]
    assert_hidden(objs, [at, rt, idt, cs, rat, ver])
    assert pkce.code_verifier == ver and token.access_token == at and info.client_secret == cs


def test_flows_results_traces_and_errors_never_show_secrets(demo, demo_server, rejecting_server, tmp_path) -> None:
    seen: dict[str, str] = {}

    def browser(url: str) -> str:
        u = urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port)
        conn.request("GET", f"{u.path}?{u.query}")
        location = conn.getresponse().getheader("Location")
        conn.close()
        q = parse_qs(urlsplit(location).query)
        seen["code"], seen["state"] = q["code"][0], q["state"][0]
        return location

    store = m.MemoryStorage()
    events: list[m.TraceEvent] = []
    client = m.Client(demo.url, storage=store, observer=events.append, redirect_handler=browser)
    response = client.post_json(CALL)
    token = store.tokens[client.resource_key]
    info = next(iter(store.clients.values()))
    secrets = [token.access_token, token.refresh_token or "", info.client_secret or "", seen["code"], seen["state"]]
    assert all(secrets)
    discovery = client.discover()
    assert response.challenge is not None
    file_store = m.FileStorage(tmp_path / "credentials.json")
    file_store.set_tokens(client.resource_key, token)
    file_store.set_client_info(discovery.issuer, info)
    objs: list[object] = [
        file_store,
        response,
        response.challenge,
        response.challenge.bearer,
        *response.challenge.challenges,
        client,
        client._native,
        client.probe(),
        discovery,
        discovery.metadata,
        discovery.protected_resource,
        token,
        info,
        *events,
        *[e.to_json() for e in events],
        bridge.bridge_captured(response.challenge),
        bridge.bridge_captured(response.challenge).challenge,
        bridge.BridgeOptions(cors=True),
        bridge.CorsPolicy(),
        m.CancelToken(),
    ]
    # A streamed response and one of its events (a GET stream on the MCP URL, authorized).
    with client.send_streamed(
        "GET", f"{demo.url}?count=1&interval_ms=1", headers={"Accept": "text/event-stream"}
    ) as streamed:
        objs += [streamed, next(streamed.events())]
    # Revoked at the end of the flow: the outcome shows no token either.
    revocation_client = m.Client(demo.url, storage=store, redirect_handler="headless")
    objs.append(revocation_client.logout())
    assert_hidden(objs, secrets)
    # Every class of the native module was shown above or in test_models_never_show_secrets.
    from mcp_auth import _native

    covered = {type(o).__name__ for o in objs} | {"OAuthClientMetadata", "PKCEParameters"}
    classes = {n for n, v in vars(_native).items() if isinstance(v, type)}
    assert classes <= covered, classes - covered

    # A tampered code: the token endpoint refuses it (invalid_grant).
    def tampered(url: str) -> str:
        location = browser(url)
        return location.replace(f"code={seen['code']}", f"code={seen['code']}X")

    with pytest.raises(m.OAuthTokenError) as e1:
        m.Client(demo.url, redirect_handler=tampered).access_token()
    assert_hidden([e1.value], [seen["code"], seen["code"] + "X", seen["state"]])

    # A wrong pre-registered secret (invalid_client).
    pre = demo_server("pre-registration")
    wrong = "WRONG-SECRET-0123456789"
    with pytest.raises(m.OAuthTokenError) as e2:
        m.Client(pre.url, client_id="pre-registered-client", client_secret=wrong, redirect_handler="headless").access_token()
    assert e2.value.error == "invalid_client"
    assert_hidden([e2.value], [wrong, "pre-registered-secret"])

    # A refused refresh token, then every token refused by the resource server.
    bogus = m.OAuthToken(token.to_dict() | {"refresh_token": "RT-BOGUS-0123456789"}).with_expiry_from(0)
    store.tokens[client.resource_key] = bogus
    refresh_events: list[m.TraceEvent] = []
    assert m.Client(demo.url, storage=store, observer=refresh_events.append, redirect_handler="headless").current_token() is None
    assert_hidden(refresh_events, ["RT-BOGUS-0123456789", bogus.access_token])

    rs = rejecting_server(401, ['Bearer error="invalid_token", resource_metadata="{prm}"'])
    rejected_events: list[m.TraceEvent] = []
    with pytest.raises(m.UnauthorizedError) as e3:
        m.Client(rs.url, observer=rejected_events.append, redirect_handler="headless").post_json(CALL)
    sent = [auth.split(" ", 1)[1] for (_, _, auth) in rs.requests if auth]
    assert sent
    assert_hidden([e3.value, bridge.bridge_error(e3.value), bridge.RelayedChallenge.from_error(e3.value), *rejected_events], sent)
