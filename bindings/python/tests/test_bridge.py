"""`mcp_auth.bridge`: the proxy bridge of the Rust `mcp-auth-bridge` crate from Python —
the expose-header merge, 401/403 with several challenges, CORS, preflight, request headers,
the metadata relay, and the error path of a real `Client.send`."""

from __future__ import annotations

import json

import pytest

import mcp_auth as m
from mcp_auth import bridge as b

ALL = "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version"
PRM = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
PROXY_PRM = "https://proxy.example/.well-known/oauth-protected-resource/mcp"


# ---- Access-Control-Expose-Headers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "merged"),
    [
        (None, ALL),
        ([], ALL),
        ("", ALL),
        (" , ,, ", ALL),
        ("X-Request-Id, Location", f"X-Request-Id, Location, {ALL}"),
        # Case-insensitive: names already there are not repeated, their spelling is kept.
        ("www-authenticate, MCP-SESSION-ID", "www-authenticate, MCP-SESSION-ID, MCP-Protocol-Version"),
        ("Www-Authenticate,mcp-session-id,mcp-protocol-version", "Www-Authenticate, mcp-session-id, mcp-protocol-version"),
        # Several field lines are one list; duplicates collapse to the first.
        (["X-A, x-a, X-B", "X-A", "x-b"], f"X-A, X-B, {ALL}"),
        (["X-One", "X-Two, WWW-Authenticate", "  X-Three  "], "X-One, X-Two, WWW-Authenticate, X-Three, Mcp-Session-Id, MCP-Protocol-Version"),
        # Empty elements and OWS tolerated; non-tokens dropped (they would void the whole field).
        (",\tX-A ,  , X-B,", f"X-A, X-B, {ALL}"),
        ('X-Good, bad header, "quoted", x:y, X-Also-Good', f"X-Good, X-Also-Good, {ALL}"),
        # The wildcard is kept and the names still added (credentialed requests).
        ("*", f"*, {ALL}"),
        (("*, *",), f"*, {ALL}"),
        ([b"X-Bytes"], f"X-Bytes, {ALL}"),
    ],
)
def test_merge_expose_headers(existing, merged) -> None:
    assert b.merge_expose_headers(existing) == merged


def test_merge_expose_headers_default_and_field_names() -> None:
    assert b.merge_expose_headers() == ALL
    assert b.EXPOSED_HEADERS == ("WWW-Authenticate", "Mcp-Session-Id", "MCP-Protocol-Version")
    assert b.merge_field_names("Accept, origin", ["Origin", "X-New"]) == "Accept, origin, X-New"
    assert b.merge_field_names(None, ["A"]) == "A"


def test_bridge_response_replaces_the_upstream_expose_field_with_one_merged_field() -> None:
    down = b.bridge_response(
        200,
        [
            ("Access-Control-Expose-Headers", "X-Trace"),
            ("content-type", "application/json"),
            ("access-control-expose-headers", "mcp-session-id, X-Trace"),
            ("Mcp-Session-Id", "s1"),
        ],
    )
    assert down.status == 200 and down.challenge is None
    assert down.header_values("access-control-expose-headers") == [
        "X-Trace, mcp-session-id, WWW-Authenticate, MCP-Protocol-Version"
    ]
    assert down.header_values("mcp-session-id") == ["s1"]
    # Without an upstream list the field is still sent (a 200 initialize carries the session).
    assert b.bridge_response(200, []).headers == [("Access-Control-Expose-Headers", ALL)]


# ---- 401 / 403 with several challenges --------------------------------------------------------

CHALLENGES_401 = [
    f'Bearer error="invalid_token", error_description="expired", resource_metadata="{PRM}", scope="mcp:read"',
    'Basic realm="legacy", DPoP algs="ES256"',
    'Negotiate',
]


def test_401_with_several_challenges_keeps_every_line_verbatim() -> None:
    upstream = [
        ("Content-Type", "application/json"),
        *[("WWW-Authenticate", v) for v in CHALLENGES_401],
        ("Connection", "close, X-Hop"),
        ("X-Hop", "gone"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "25"),
        ("Keep-Alive", "timeout=5"),
        ("Proxy-Authenticate", 'Basic realm="proxy"'),
        ("X-Request-Id", "r-1"),
    ]
    down = b.bridge_response(401, upstream)
    assert down.status == 401
    assert down.header_values("www-authenticate") == CHALLENGES_401
    names = [n.lower() for n, _ in down.headers]
    for gone in ("connection", "x-hop", "transfer-encoding", "content-length", "keep-alive", "proxy-authenticate"):
        assert gone not in names
    assert down.header_values("x-request-id") == ["r-1"]
    c = down.challenge
    assert c is not None
    assert (c.status, c.scheme, c.error, c.error_description, c.scope, c.resource_metadata) == (
        401, "Bearer", "invalid_token", "expired", "mcp:read", PRM,
    )
    assert c.www_authenticate == CHALLENGES_401
    assert json.loads(c.to_json()) == c.to_dict()
    assert json.loads(c.error_body()) == {"error": "invalid_token", "error_description": "expired"}


def test_403_step_up_with_a_bearer_challenge_after_another_scheme() -> None:
    lines = [
        'Basic realm="x"',
        f'Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="{PRM}"',
    ]
    down = b.bridge_response(403, [("www-authenticate", lines[0]), ("WWW-Authenticate", lines[1])])
    assert down.header_values("WWW-Authenticate") == lines
    c = down.challenge
    assert c is not None and c.scheme == "Bearer" and c.error == "insufficient_scope"
    assert c.scope == "mcp:read mcp:write"
    # One line holding both challenges parses the same (RFC 9110 §11.6.1).
    one = b.RelayedChallenge.from_values(403, [", ".join(lines)])
    assert one is not None and one.scope == c.scope and one.scheme == "Bearer"
    # No Bearer at all: the first challenge of any scheme; 403 without error defaults the body.
    other = b.RelayedChallenge.from_values(403, ['Basic realm="x"'])
    assert other is not None and other.scheme == "Basic" and other.error is None
    assert json.loads(other.error_body()) == {"error": "insufficient_scope"}
    assert b.RelayedChallenge.from_values(200, lines) is None
    assert b.RelayedChallenge.from_headers(403, {"WWW-Authenticate": lines[1]}) == b.RelayedChallenge.from_values(403, [lines[1]])
    assert b.is_challenge_status(401) and b.is_challenge_status(403) and not b.is_challenge_status(407)


def test_resource_metadata_rewrite_changes_only_that_value() -> None:
    down = b.bridge_response(401, [("WWW-Authenticate", v) for v in CHALLENGES_401], resource_metadata_url=PROXY_PRM)
    assert down.header_values("www-authenticate") == [CHALLENGES_401[0].replace(PRM, PROXY_PRM), *CHALLENGES_401[1:]]
    assert down.challenge is not None and down.challenge.resource_metadata == PROXY_PRM
    assert b.rewrite_resource_metadata(
        'Bearer error="invalid_token", resource_metadata=https://up/prm, scope="a b"', "https://proxy/prm"
    ) == 'Bearer error="invalid_token", resource_metadata="https://proxy/prm", scope="a b"'
    # Text inside a quoted string is not a parameter.
    v = 'Bearer error_description="resource_metadata=x"'
    assert b.rewrite_resource_metadata(v, "https://p/prm") == v


def test_proxy_owned_cors_replaces_the_upstream_policy() -> None:
    upstream = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Credentials", "true"),
        ("Access-Control-Max-Age", "5"),
        ("Vary", "Accept-Encoding"),
        ("WWW-Authenticate", CHALLENGES_401[0]),
    ]
    # Without a policy the upstream's CORS fields pass through.
    passed = b.bridge_response(401, upstream)
    assert passed.header_values("access-control-allow-origin") == ["*"]
    cors = b.CorsPolicy(["https://app.example"], allow_credentials=True, max_age_secs=None)
    down = b.bridge_response(401, upstream, "https://app.example", cors=cors)
    assert down.header_values("access-control-allow-origin") == ["https://app.example"]
    assert down.header_values("access-control-allow-credentials") == ["true"]
    assert down.header_values("access-control-max-age") == []
    assert down.header_values("vary") == ["Accept-Encoding, Origin"]
    # An origin the policy does not list gets no CORS header at all.
    refused = b.bridge_response(401, upstream, "https://evil.example", cors={"allowed_origins": ["https://app.example"]})
    assert refused.header_values("access-control-allow-origin") == []
    # cors=True is any origin.
    anyone = b.bridge_response(401, upstream, "https://x.example", cors=True)
    assert anyone.header_values("access-control-allow-origin") == ["*"]
    assert cors.allows(None) and cors.allows("https://APP.example") and not cors.allows("https://x")
    assert cors.allow_origin("https://app.example") == "https://app.example"
    assert b.CorsPolicy().response_headers("https://x") == [("Access-Control-Allow-Origin", "*")]
    assert cors.to_dict() == {"allowed_origins": ["https://app.example"], "allow_credentials": True, "max_age_secs": None}


def test_options_as_objects_dicts_json_and_keywords() -> None:
    upstream = [("WWW-Authenticate", CHALLENGES_401[0])]
    opts = b.BridgeOptions(resource_metadata_url=PROXY_PRM, cors={"allowed_origins": ["https://a"]})
    as_dict = opts.to_dict()
    assert as_dict == {
        "resource_metadata_url": PROXY_PRM,
        "cors": {"allowed_origins": ["https://a"], "allow_credentials": False, "max_age_secs": 600},
    }
    expected = b.bridge_response(401, upstream, "https://a", opts)
    assert b.bridge_response(401, upstream, "https://a", as_dict) == expected
    assert b.bridge_response(401, upstream, "https://a", opts.to_json()) == expected
    assert b.bridge_response(401, upstream, "https://a", b.BridgeOptions.from_json(opts.to_json())) == expected
    assert b.bridge_response(401, upstream, "https://a", resource_metadata_url=PROXY_PRM, cors=opts.cors) == expected
    # Keywords override the options object.
    other = b.bridge_response(401, upstream, "https://a", opts, resource_metadata_url="https://other/prm")
    assert other.challenge is not None and other.challenge.resource_metadata == "https://other/prm"
    assert b.BridgeOptions.from_json("") == b.BridgeOptions() == b.BridgeOptions.from_json("null")
    assert repr(b.BridgeOptions()) == "BridgeOptions(resource_metadata_url=None, cors=None)"
    for bad in ({"resource_metadata_url": "not a url"}, {"resource_metadata_url": "ftp://x/prm"}, {"cors": {"origins": []}}, {"unknown": 1}, "[1]", "{"):
        with pytest.raises(m.InvalidArgumentError):
            b.bridge_response(401, upstream, None, bad)
    with pytest.raises(m.InvalidArgumentError, match="resource_metadata_url"):
        b.BridgeOptions(resource_metadata_url="https://x/a b")
    with pytest.raises(TypeError):
        b.bridge_response(401, upstream, None, 42)


def test_header_shapes() -> None:
    import httpx

    lines = CHALLENGES_401[:2]
    as_pairs = b.bridge_response(401, [("WWW-Authenticate", v) for v in lines])
    h = httpx.Headers([("WWW-Authenticate", lines[0]), ("WWW-Authenticate", lines[1])])
    from_httpx = b.bridge_response(401, h)
    assert from_httpx.header_values("www-authenticate") == lines
    assert from_httpx.challenge == as_pairs.challenge
    assert b.bridge_response(401, [(b"WWW-Authenticate", lines[0].encode())]).header_values("www-authenticate") == [lines[0]]
    assert b.bridge_response(401, {"WWW-Authenticate": lines[0]}).header_values("www-authenticate") == [lines[0]]
    # Pairs that would split a response are dropped, never written.
    bad = b.bridge_response(200, [("X-Evil", "a\r\nSet-Cookie: x=1"), ("Bad Name", "v"), ("X-Ok", "v")])
    assert [n for n, _ in bad.headers] == ["X-Ok", "Access-Control-Expose-Headers"]
    with pytest.raises(TypeError):
        b.bridge_response(401, "WWW-Authenticate: Bearer")
    with pytest.raises(TypeError):
        b.bridge_response(401, [("only-a-name",)])
    with pytest.raises(TypeError):
        b.bridge_response(401, [("X", 1)])


def test_preflight() -> None:
    request = [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "authorization, content-type")]
    ok = b.preflight(request, b.CorsPolicy(["https://app.example"]))
    assert ok.status == 204
    assert ok.header_values("access-control-allow-origin") == ["https://app.example"]
    assert ok.header_values("access-control-allow-methods") == [b.ALLOWED_METHODS]
    assert ok.header_values("access-control-allow-headers") == [", ".join(b.ALLOWED_REQUEST_HEADERS)]
    assert "Authorization" in b.ALLOWED_REQUEST_HEADERS
    assert ok.header_values("access-control-max-age") == ["600"]
    refused = b.preflight([("Origin", "https://evil.example")], {"allowed_origins": ["https://app.example"]})
    assert refused.status == 403 and refused.headers == [("Vary", "Origin")]
    not_preflight = b.preflight([])
    assert not_preflight.status == 204 and not_preflight.headers == [("Allow", b.ALLOWED_METHODS)]
    # Default policy: any origin.
    assert b.preflight(request).header_values("access-control-allow-origin") == ["*"]
    assert json.loads(b.preflight_json(json.dumps(request))) == json.loads(b.preflight(request).to_json())


def test_upstream_request_headers() -> None:
    downstream = [
        ("Host", "proxy.example"),
        ("Authorization", "Bearer t"),
        ("Content-Type", "application/json"),
        ("Mcp-Session-Id", "s"),
        ("MCP-Protocol-Version", "2025-11-25"),
        ("Origin", "https://app.example"),
        ("Connection", "keep-alive, X-Drop"),
        ("X-Drop", "1"),
        ("Proxy-Authorization", "Basic x"),
        ("Content-Length", "10"),
        ("Last-Event-ID", "7"),
    ]
    assert b.upstream_request_headers(downstream) == [
        ("Authorization", "Bearer t"),
        ("Content-Type", "application/json"),
        ("Mcp-Session-Id", "s"),
        ("MCP-Protocol-Version", "2025-11-25"),
        ("Last-Event-ID", "7"),
    ]
    assert json.loads(b.upstream_request_headers_json(json.dumps(downstream))) == [list(p) for p in b.upstream_request_headers(downstream)]


def test_json_entry_points_match_the_objects() -> None:
    upstream = [("WWW-Authenticate", v) for v in CHALLENGES_401]
    opts = {"resource_metadata_url": PROXY_PRM, "cors": {"allowed_origins": ["https://a"]}}
    text = b.bridge_response_json(401, json.dumps(upstream), "https://a", json.dumps(opts))
    assert text == b.bridge_response(401, upstream, "https://a", opts).to_json()
    assert json.loads(b.challenge_json(401, json.dumps(upstream))) == b.RelayedChallenge.from_headers(401, upstream).to_dict()  # type: ignore[union-attr]
    assert b.challenge_json(200, "[]") == "null"
    with pytest.raises(m.InvalidArgumentError):
        b.bridge_response_json(401, '{"not": "pairs"}')
    d = b.bridge_response(401, upstream).to_dict()
    assert d["status"] == 401 and d["headers"][0] == ("WWW-Authenticate", CHALLENGES_401[0])


# ---- Protected resource metadata relay --------------------------------------------------------


def test_relay_protected_resource_metadata() -> None:
    doc = {"resource": "https://mcp.example.com/mcp", "authorization_servers": ["https://as.example"], "x-extra": 1}
    assert json.loads(b.relay_protected_resource_metadata(json.dumps(doc))) == doc
    relayed = json.loads(b.relay_protected_resource_metadata(json.dumps(doc).encode(), "https://proxy.example/mcp"))
    assert relayed == {**doc, "resource": "https://proxy.example/mcp"}
    with pytest.raises(m.InvalidResponseError):
        b.relay_protected_resource_metadata(b'{"authorization_servers": []}')
    with pytest.raises(m.InvalidArgumentError):
        b.relay_protected_resource_metadata(json.dumps(doc), "not a url")


def test_fetch_protected_resource_metadata_from_the_demo_server(demo) -> None:
    url = f"{demo.origin}/.well-known/oauth-protected-resource/mcp"
    doc = json.loads(b.fetch_protected_resource_metadata(url, timeout=10))
    assert doc["resource"] == demo.url and doc["authorization_servers"] == [demo.origin]
    rewritten = json.loads(b.fetch_protected_resource_metadata(url, "https://proxy.example/mcp"))
    assert rewritten["resource"] == "https://proxy.example/mcp"
    with pytest.raises(m.InvalidResponseError) as e:
        b.fetch_protected_resource_metadata(f"{demo.origin}/nowhere")
    assert e.value.status == 404
    with pytest.raises(m.InsecureUrlError):
        b.fetch_protected_resource_metadata("http://example.com/.well-known/oauth-protected-resource")


# ---- The error path of a real Client.send -----------------------------------------------------


def test_bridge_error_of_a_server_that_refuses_every_token(rejecting_server) -> None:
    """The server answers 401 with three challenge lines to every request, tokens or not:
    `Client.send` authorizes `max_authorizations` times against the demo AS, then raises
    `UnauthorizedError` carrying the status and every line, which the bridge forwards."""
    lines = [
        'Bearer error="invalid_token", error_description="revoked", resource_metadata="{prm}"',
        'Basic realm="legacy"',
        'DPoP algs="ES256", error="invalid_token"',
    ]
    rs = rejecting_server(401, lines)
    events: list[m.TraceEvent] = []
    client = m.Client(rs.url, observer=events.append, redirect_handler="headless")
    with pytest.raises(m.UnauthorizedError) as e:
        client.post_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    err = e.value
    expected = [v.replace("{prm}", rs.prm) for v in lines]
    assert err.status == 401 and err.www_authenticate == expected
    # One authorization, then refreshes (the rejected token had a refresh token).
    steps = [ev.step for ev in events]
    assert steps.count("token_exchange") + steps.count("refresh") == client.max_authorizations
    # The tokens really were sent and refused.
    assert sum(1 for (_, _, auth) in rs.requests if auth) == client.max_authorizations

    down = b.bridge_error(err, "https://app.example", cors={"allowed_origins": ["https://app.example"]}, resource_metadata_url=PROXY_PRM)
    assert down is not None and down.status == 401
    assert down.header_values("www-authenticate") == [expected[0].replace(rs.prm, PROXY_PRM), *expected[1:]]
    assert down.header_values("access-control-expose-headers") == [ALL]
    assert down.header_values("access-control-allow-origin") == ["https://app.example"]
    c = down.challenge
    assert c is not None and (c.scheme, c.error, c.error_description, c.resource_metadata) == ("Bearer", "invalid_token", "revoked", PROXY_PRM)
    # The same, unrewritten, as data and as JSON.
    relayed = b.RelayedChallenge.from_error(err)
    assert relayed is not None and relayed.www_authenticate == expected and relayed.resource_metadata == rs.prm
    assert json.loads(b.bridge_error_json(err)) == json.loads(b.bridge_error(err).to_json())  # type: ignore[union-attr]
    # The captured challenge on the exception bridges the same way.
    assert err.challenge is not None
    assert b.bridge_captured(err.challenge) == b.bridge_error(err)


def test_bridge_error_of_a_final_403(demo_server) -> None:
    """scope-retry-limit: every token gets 403 insufficient_scope (scope mcp:admin is never
    granted); the bridged response is that 403 with the step-up challenge."""
    server = demo_server("scope-retry-limit")
    with pytest.raises(m.UnauthorizedError) as e:
        m.Client(server.url, redirect_handler="headless").post_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    down = b.bridge_error(e.value)
    assert down is not None and down.status == 403
    c = down.challenge
    assert c is not None and c.error == "insufficient_scope" and c.scope == "mcp:admin"
    assert down.header_values("www-authenticate") == e.value.www_authenticate


def test_bridge_error_of_other_errors(demo) -> None:
    with pytest.raises(m.TransportError) as e:
        m.Client("http://127.0.0.1:9/mcp", timeout=5).probe()
    assert b.bridge_error(e.value) is None
    assert b.bridge_error_json(e.value) == "null"
    assert b.RelayedChallenge.from_error(e.value) is None
    assert b.bridge_error(ValueError("not ours")) is None
    with pytest.raises(TypeError):
        b.bridge_error("not an exception")  # type: ignore[arg-type]


def test_bridge_captured_from_a_successful_send(demo) -> None:
    """A proxy that lets `Client.send` authorize still sees the 401 it answered on the way."""
    r = m.Client(demo.url, redirect_handler="headless").post_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert r.status == 200 and r.challenge is not None
    down = b.bridge_captured(r.challenge)
    assert down.status == 401
    assert down.challenge is not None and down.challenge.resource_metadata == r.challenge.resource_metadata
    assert b.RelayedChallenge.from_captured(r.challenge) == down.challenge
