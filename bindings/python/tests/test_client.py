"""`mcp_auth.Client` against the loopback demo server: the flow, storage shapes, callbacks,
errors, and the GIL being released."""

from __future__ import annotations

import http.client
import http.server
import json
import pickle
import threading
import time
from urllib.parse import urlsplit

import pytest

import mcp_auth as m
from mcp_auth import _native

CALL = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}}


def test_send_runs_the_whole_flow_once(demo) -> None:
    events: list[m.TraceEvent] = []
    with m.Client(demo.url, observer=events.append, client_name="pytest", redirect_handler="headless") as c:
        r = c.post_json(CALL)
        assert r.status == 200
        assert r.json()["result"]["content"][0]["text"] == "hi"
        assert r.authorizations == 1
        assert r.challenge is not None and r.challenge.status == 401
        assert r.challenge.resource_metadata == f"{demo.origin}/.well-known/oauth-protected-resource/mcp"
        r2 = c.send("POST", json=CALL, headers={"Accept": "application/json, text/event-stream"})
        assert r2.status == 200 and r2.authorizations == 0
        assert c.granted_scope() == "mcp:read mcp:write"
        token = c.access_token()
        assert c.current_token() == token
        assert all(token not in e.to_json() for e in events)
        steps = [e.step for e in events]
        assert steps[:2] == ["mcp_request", "protected_resource_metadata"]
        assert all(e.outcome in ("ok", "fallback", "failed") for e in events)


def test_operations_have_the_rust_and_c_names_and_old_names_warn(demo) -> None:
    """`authorize_after` and `json_message` are the names Rust (`Client::authorize_after`,
    `Response::json_message`) and C (`mcpauth_client_authorize_after`,
    `mcpauth_response_json_message`) use; the old Python names still work and warn."""
    c = m.Client(demo.url, redirect_handler="headless")
    r = c.post_json(CALL)
    assert r.json_message() == r.json()
    assert r.json_message()["result"]["content"][0]["text"] == "hi"
    with pytest.warns(DeprecationWarning, match="json_message"):
        assert r.message() == r.json_message()
    token = c.current_token()
    assert token is not None and r.challenge is not None
    www = r.challenge.www_authenticate
    new = c.authorize_after(401, www, token)
    assert new is not None and new != token and c.current_token() == new
    # A token another thread already replaced is handed back, no new authorization.
    assert c.authorize_after(401, www, token) == new
    with pytest.warns(DeprecationWarning, match="authorize_after") as caught:
        assert c.reauthorize(401, www, token) == new
    # Attributed to the caller, not to mcp_auth.
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match="authorize_after"):
        assert c._native.reauthorize(401, www, token) == new
    with pytest.raises(m.InvalidArgumentError):
        c.authorize_after(500, www, None)


def test_probe_discover_logout(demo) -> None:
    c = m.Client(demo.url, redirect_handler="headless")
    p = c.probe()
    assert p.status == 401 and p.challenge is not None
    assert p.challenge.bearer is not None and p.challenge.bearer.error == "invalid_token"
    d = c.discover()
    assert d.issuer == demo.origin
    assert d.token_endpoint == f"{demo.origin}/token"
    assert d.metadata is not None and d.metadata.issuer == demo.origin
    assert d.protected_resource is not None and d.protected_resource.resource == demo.url
    assert d.to_dict()["issuer"] == demo.origin
    assert c.current_token() is None
    c.access_token()
    assert c.current_token() is not None
    c.logout()
    assert c.current_token() is None


def test_keyed_storage_object(demo) -> None:
    store = m.MemoryStorage()
    c = m.Client(demo.url, storage=store, redirect_handler="headless")
    token = c.access_token()
    stored = store.tokens[c.resource_key]
    assert isinstance(stored, m.OAuthToken) and stored.access_token == token
    assert stored.expires_at is not None
    assert list(store.clients) == [demo.origin]
    assert store.clients[demo.origin].issuer == demo.origin
    # A new client with the same storage starts with the stored token (no flow).
    events: list[m.TraceEvent] = []
    c2 = m.Client(demo.url, storage=store, observer=events.append, redirect_handler="headless")
    assert c2.current_token() == token
    assert events == []
    c2.logout()
    assert c.resource_key not in store.tokens


def test_unkeyed_sync_storage_with_dicts(demo) -> None:
    class Unkeyed:
        tokens = None
        info = None

        def get_tokens(self):
            return self.tokens

        def set_tokens(self, tokens):
            self.tokens = tokens.to_dict()  # dicts come back in get_tokens

        def get_client_info(self):
            return self.info and json.dumps(self.info)  # JSON text is accepted too

        def set_client_info(self, info):
            self.info = info.to_dict()

    s = Unkeyed()
    token = m.Client(demo.url, storage=s, redirect_handler="headless").access_token()
    assert s.tokens["access_token"] == token
    assert m.Client(demo.url, storage=s, redirect_handler="headless").current_token() == token
    with pytest.raises(m.StorageError, match="remove_tokens"):
        m.Client(demo.url, storage=s, redirect_handler="headless").logout()


def test_file_storage(demo, tmp_path) -> None:
    path = tmp_path / "creds.json"
    token = m.Client(demo.url, storage=path, redirect_handler="headless").access_token()
    data = json.loads(path.read_text())
    assert data["tokens"][demo.url]["access_token"] == token
    assert (path.stat().st_mode & 0o777) == 0o600
    assert m.Client(demo.url, storage=str(path), redirect_handler="headless").current_token() == token


def test_redirect_handler_callable(demo) -> None:
    seen = []

    def browser(url: str) -> str:
        seen.append(url)
        u = urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port)
        conn.request("GET", f"{u.path}?{u.query}")
        location = conn.getresponse().getheader("Location")
        conn.close()
        return location  # the redirect URL, with code, state and iss

    c = m.Client(demo.url, redirect_handler=browser, redirect_uri="http://127.0.0.1:1/cb")
    assert c.redirect_uri == "http://127.0.0.1:1/cb"
    assert c.access_token()
    assert len(seen) == 1 and "code_challenge_method=S256" in seen[0]

    # The reference's shape: an object with code/state/iss (here a tuple).
    def as_tuple(url: str):
        from urllib.parse import parse_qs

        q = parse_qs(urlsplit(browser(url)).query)
        return (q["code"][0], q["state"][0], q.get("iss", [None])[0])

    assert m.Client(demo.url, redirect_handler=as_tuple).access_token()


def test_callback_exceptions_surface_as_mcp_auth_errors(demo) -> None:
    def boom(url: str) -> str:
        raise ValueError("user closed the window")

    with pytest.raises(m.AuthorizationError, match="redirect handler raised ValueError") as e:
        m.Client(demo.url, redirect_handler=boom).access_token()
    assert isinstance(e.value.__cause__, ValueError)
    assert isinstance(e.value, m.OAuthFlowError)

    class BadStorage(m.MemoryStorage):
        def get_tokens(self, resource):
            raise OSError("disk on fire")

    with pytest.raises(m.StorageError) as e2:
        m.Client(demo.url, storage=BadStorage(), redirect_handler="headless").access_token()
    assert isinstance(e2.value.__cause__, OSError)

    def bad_observer(event):
        raise RuntimeError("observer bug")

    with pytest.raises(m.CallbackError) as e3:
        m.Client(demo.url, observer=bad_observer).probe()
    assert isinstance(e3.value.__cause__, RuntimeError)

    def interrupted(url: str) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        m.Client(demo.url, redirect_handler=interrupted).access_token()


def test_async_storage_methods_outside_an_event_loop(demo) -> None:
    class AsyncKeyed(m.MemoryStorage):
        async def get_tokens(self, resource):  # type: ignore[override]
            return super().get_tokens(resource)

        async def set_tokens(self, resource, tokens):  # type: ignore[override]
            super().set_tokens(resource, tokens)

    s = AsyncKeyed()
    token = m.Client(demo.url, storage=s, redirect_handler="headless").access_token()
    assert s.tokens[m.resource_url_from_server_url(demo.url)].access_token == token


def test_errors(demo) -> None:
    with pytest.raises(m.InvalidArgumentError, match="scpoe"):
        m.Client(demo.url, scpoe="x")
    with pytest.raises(m.InsecureUrlError):
        m.Client("http://example.com/mcp")
    with pytest.raises(m.InvalidArgumentError):
        m.Client("not a url")
    # Nothing listens on port 9 of loopback.
    with pytest.raises(m.TransportError) as e:
        m.Client("http://127.0.0.1:9/mcp", timeout=5).probe()
    assert e.value.kind == "transport" and e.value.code == 200


def test_error_classes_cover_every_core_kind() -> None:
    from mcp_auth._errors import _BY_KIND

    reference = {"OAuthFlowError": m.OAuthFlowError}
    for name, code, ref in _native.ERROR_KINDS:
        cls = _BY_KIND[name]
        assert issubclass(cls, m.McpAuthError)
        if ref is None:
            assert not issubclass(cls, m.OAuthFlowError), name
        else:
            assert issubclass(cls, reference.get(ref, getattr(m, ref))), (name, ref)
    assert {k for k, _, _ in _native.ERROR_KINDS} | {"callback"} == set(_BY_KIND)
    assert _BY_KIND["token"] is m.OAuthTokenError
    assert _BY_KIND["registration"] is m.OAuthRegistrationError
    assert issubclass(m.RequestTimeoutError, TimeoutError)


def test_models_hide_secrets_and_round_trip() -> None:
    t = m.OAuthToken(access_token="AT-secret", refresh_token="RT-secret", id_token="IDT", expires_in="3600")
    r = repr(t)
    assert "AT-secret" not in r and "RT-secret" not in r and "IDT" not in r
    assert t.expires_in == 3600 and t.extra == {"id_token": "IDT"}
    assert pickle.loads(pickle.dumps(t)) == t
    assert m.OAuthToken.model_validate(t.model_dump()) == t
    assert not t.is_expired() and t.with_expiry_from(1000).expires_at == 4600
    ci = m.OAuthClientInformationFull(client_id="c", client_secret="CS-secret", registration_access_token="RAT")
    assert "CS-secret" not in repr(ci) and "RAT" not in repr(ci)
    assert ci.client_secret == "CS-secret"
    asm = m.OAuthMetadata(issuer="https://AS.example.com:443", authorization_endpoint="https://as.example.com/a", token_endpoint="https://as.example.com/t")
    assert asm.issuer == "https://as.example.com" and asm.response_types_supported == ["code"]
    assert "issuer='https://as.example.com'" in repr(asm)
    with pytest.raises(m.InvalidResponseError, match="token_endpoint"):
        m.OAuthMetadata(issuer="https://as", authorization_endpoint="https://as/a")
    with pytest.raises(TypeError):
        m.OAuthToken.from_json({"access_token": "x"})


def test_challenges() -> None:
    cs = m.parse_www_authenticate('Basic realm="x", Bearer Scope="a b", error=insufficient_scope')
    assert [c.scheme for c in cs] == ["Basic", "Bearer"]
    assert cs[1].param("SCOPE") == "a b" and cs[1].params[0] == ("scope", "a b")
    b = cs[1].bearer()
    assert b is not None and b.scopes() == ["a", "b"] and b.error == "insufficient_scope"
    assert m.bearer_challenge(["Basic realm=x", 'Bearer error="invalid_token"']).error == "invalid_token"
    assert str(m.Challenge("Bearer", [("scope", "a b")])) == 'Bearer scope="a b"'
    cap = m.CapturedChallenge(403, ['Bearer error="insufficient_scope", scope="admin"'])
    assert cap.error == "insufficient_scope" and cap.scope == "admin"


class _Slow(http.server.BaseHTTPRequestHandler):
    in_flight = 0
    max_in_flight = 0
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with _Slow.lock:
            _Slow.in_flight += 1
            _Slow.max_in_flight = max(_Slow.max_in_flight, _Slow.in_flight)
        time.sleep(0.5)
        with _Slow.lock:
            _Slow.in_flight -= 1
        body = b'{"jsonrpc":"2.0","id":0,"result":{}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_blocking_calls_release_the_gil() -> None:
    """Two threads call `probe` on one client against a server that takes 0.5 s to answer:
    both requests are in flight at once, so neither thread held the GIL while waiting (the
    Python server threads themselves could not have answered otherwise)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = m.Client(f"http://127.0.0.1:{server.server_address[1]}/mcp", redirect_handler="headless")
        results: list[int] = []
        start = time.monotonic()
        threads = [threading.Thread(target=lambda: results.append(client.probe().status)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        assert results == [200, 200]
        # Both requests were in flight at once (the proof); the wall time is only a sanity check.
        assert _Slow.max_in_flight == 2
        assert elapsed < 5, elapsed
    finally:
        server.shutdown()


def test_every_core_option_is_accepted(demo, tmp_path) -> None:
    """The options the conformance client (and the C ABI) use, as keyword arguments."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    common = {
        "client_name": "all options",
        "client_metadata_url": "https://client.example/metadata.json",
        "dpop": "never",
        "protocol_version": "2025-11-25",
        "timeout_ms": 5000,
    }
    path = tmp_path / "creds.json"
    c = m.Client(
        demo.url,
        storage={"type": "file", "path": str(path)},
        redirect={"type": "callback", "redirect_uri": "http://127.0.0.1:1/cb"},
        client_id="c",
        client_secret="s",
        token_endpoint_auth_method="client_secret_post",
        grant="client_credentials",
        **common,
    )
    assert c.redirect_uri == "http://127.0.0.1:1/cb"
    m.Client(demo.url, client_id="c", private_key_pem=pem, signing_algorithm="ES256", grant="client_credentials", **common)
    m.Client(demo.url, client_id="c", grant="jwt_bearer", assertion="eyJ.e30.sig", **common)
    m.Client(
        demo.url,
        grant="enterprise_managed",
        client_id="c",
        idp_token_endpoint="https://idp.example/token",
        idp_client_id="idp-client",
        idp_client_secret="idp-secret",
        id_token="eyJ.e30.sig",
        **common,
    )
    m.Client(demo.url, storage={"type": "memory"}, redirect={"type": "headless"}, **common)
    # The file storage named by the dict form is the one used.
    m.Client(demo.url, storage={"type": "file", "path": str(path)}, redirect_handler="headless").access_token()
    assert demo.url in json.loads(path.read_text())["tokens"]
    with pytest.raises(m.InvalidArgumentError, match="grant"):
        m.Client(demo.url, grant="password")
    with pytest.raises(m.InvalidArgumentError):
        m.Client(demo.url, grant="enterprise_managed", id_token="x")  # the IdP fields go together


def test_client_metadata_reaches_the_registration(demo, tmp_path) -> None:
    """A dict `client_metadata` is the options JSON's: laid over the defaults; what the demo
    server registered (its answer, stored) shows the members, and the method is the one used."""
    path = tmp_path / "creds.json"
    c = m.Client(
        demo.url,
        storage=path,
        client_metadata={
            "token_endpoint_auth_method": "client_secret_post",
            "client_uri": "https://py.example",
            "contacts": ["ops@py.example"],
            "software_id": "py-host",
            "software_version": "2.0",
        },
        redirect_handler="headless",
    )
    c.access_token()
    info = m.FileStorage(path).get_client_info(demo.origin)
    assert info is not None
    d = info.to_dict()
    assert d["token_endpoint_auth_method"] == "client_secret_post"
    assert d["client_uri"] == "https://py.example"
    assert d["contacts"] == ["ops@py.example"]
    assert d["software_id"] == "py-host"
    assert d["software_version"] == "2.0"
    assert d["client_name"] == "mcp-auth"  # not given: the default
    assert d["redirect_uris"] == [c.redirect_uri]


def test_options_without_effect_are_refused() -> None:
    with pytest.raises(m.InvalidArgumentError, match=r"client_metadata\.token_endpoint_auth_method"):
        m.Client("http://127.0.0.1:1/mcp", token_endpoint_auth_method="client_secret_post")
    with pytest.raises(m.InvalidArgumentError, match="client_id is not client metadata"):
        m.Client("http://127.0.0.1:1/mcp", client_metadata={"client_id": "x"})
