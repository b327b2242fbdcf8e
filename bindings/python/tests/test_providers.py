"""Provider profiles and per-server overrides (docs/providers.md) through the Python package: the
options reach the core, the authorization request carries what they say, an unknown profile is
refused, and the CLI maps an error's override to its flag."""

from __future__ import annotations

import http.client
from urllib.parse import parse_qs, urlsplit

import pytest

from mcp_auth import Client
from mcp_auth import _errors as E
from mcp_auth.cli import OVERRIDE_FLAGS

REDIRECT_URI = "http://localhost:3000/callback"


def follow_once(url: str) -> str:
    """What a browser does at an auto-approving AS: the Location of the redirect."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname or "", u.port, timeout=10)
    conn.request("GET", f"{u.path}?{u.query}")
    r = conn.getresponse()
    location = r.getheader("Location")
    conn.close()
    assert location, r.status
    return location


def test_overrides_shape_the_authorization_request(demo) -> None:  # type: ignore[no-untyped-def]
    seen: list[dict[str, list[str]]] = []

    def browser(url: str) -> str:
        seen.append(parse_qs(urlsplit(url).query))
        return follow_once(url)

    client = Client(
        demo.url,
        redirect_handler=browser,
        redirect_uri=REDIRECT_URI,
        provider="none",
        overrides={
            "resource": False,
            "authorization_params": {"audience": "{resource}", "access_type": "offline"},
            "prompt": "login",
        },
    )
    assert client.access_token()
    (query,) = seen
    assert "resource" not in query
    assert query["audience"] == [demo.url]
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["login"]


def test_without_overrides_resource_is_sent_and_no_prompt_is_forced(demo) -> None:  # type: ignore[no-untyped-def]
    seen: list[dict[str, list[str]]] = []

    def browser(url: str) -> str:
        seen.append(parse_qs(urlsplit(url).query))
        return follow_once(url)

    assert Client(demo.url, redirect_handler=browser, redirect_uri=REDIRECT_URI).access_token()
    (query,) = seen
    assert query["resource"] == [demo.url]
    assert "prompt" not in query


def test_an_unknown_profile_is_refused_naming_the_known_ones(demo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(E.InvalidArgumentError, match="entra"):
        Client(demo.url, provider="okta")
    with pytest.raises(E.InvalidArgumentError, match="resourse"):
        Client(demo.url, overrides={"resourse": False})


def test_the_cli_names_a_flag_for_every_override_the_core_suggests() -> None:
    for name in ("overrides.resource", "overrides.drop_scopes", "overrides.trusted_issuers", "overrides.prompt", "overrides.authorization_server"):
        assert name in OVERRIDE_FLAGS


def test_cli_flags_reach_the_core(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import os
    import subprocess
    import sys

    argv = [
        sys.executable, "-m", "mcp_auth", "probe", "--json", "--provider", "entra", "--no-resource",
        "--auth-param", "audience={resource}", "--drop-scope", "offline_access",
        "--trust-issuer", "https://a.example=https://b.example/.well-known/openid-configuration", demo.url,
    ]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**os.environ, "MCP_AUTH_HOME": str(tmp_path)})
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)["discovery"]
    assert d["provider"] == "entra"
    assert d["resource"] is None
    o = d["overrides"]
    assert o["resource"] is False
    assert o["authorization_params"] == {"audience": demo.url}  # {resource} resolved
    assert o["drop_scopes"] == ["offline_access"]
    assert o["tenant_issuer"] is True
    assert o["trusted_issuers"] == [{"issuer": "https://a.example", "metadata_url": "https://b.example/.well-known/openid-configuration"}]
    bad = subprocess.run([*argv[:4], "--auth-param", "novalue", demo.url], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "NAME=VALUE" in bad.stderr
