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
    for name in ("overrides.resource", "overrides.drop_scopes", "overrides.trusted_issuers", "overrides.prompt"):
        assert name in OVERRIDE_FLAGS
