"""oidc-provider + the Python SDK resource server: the flows every host needs."""

from __future__ import annotations

from harness import Cell, Scenario, at_least, expect, interactive, scenario


def check_code_refresh(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 1)
    expect(p, "logins at the AS", c.logins(), 1)
    expect(p, "authorization_code grants", c.grants("authorization_code"), 1)
    at_least(p, "refresh_token grants", c.grants("refresh_token"), 1)
    at_least(p, "refresh tokens consumed (rotation)", len(c.events("refresh_token.consumed")), 1)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


def check_client_credentials(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 0)
    at_least(p, "client_credentials grants", c.grants("client_credentials"), 3)
    expect(p, "tool calls at the RS", c.tool_calls(), 3)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 3)
    return p


def check_no_refresh(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 1)
    expect(p, "refresh_token grants", c.grants("refresh_token"), 0)
    expect(p, "authorization_code grants (one per token lifetime)", c.grants("authorization_code"), 2)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


def check_forgotten(c: Cell) -> list[str]:
    p: list[str] = []
    starts = [i for i, e in enumerate(c.as_events) if e["event"] == "listening"]
    if len(starts) != 2:
        return [f"the AS started {len(starts)} times, expected 2"]
    first, second = c.as_events[: starts[1]], c.as_events[starts[1] :]
    expect(p, "registrations before the AS forgot", sum(e["event"] == "registration_create.success" for e in first), 1)
    refused = [e for e in second if "invalid_client" in str(e.get("error", ""))]
    at_least(p, "requests the restarted AS refused with invalid_client", len(refused), 1)
    expect(p, "registrations after the AS forgot (once)", sum(e["event"] == "registration_create.success" for e in second), 1)
    expect(p, "authorization_code grants after the AS forgot", sum(e["event"] == "grant.success" and e.get("grant_type") == "authorization_code" for e in second), 1)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    return p


scenario(Scenario(
    "code-refresh",
    "authorization code (login + consent in the browser), tool call, refresh after expiry",
    [],
    2,
    interactive,
    check_code_refresh,
))
scenario(Scenario(
    "client-credentials",
    "client_credentials (pre-registered, client_secret_basic) across two expiries",
    [],
    3,
    lambda c: {
        "server_url": c.resource,
        "grant": "client_credentials",
        "client_id": "interop-cc",
        "client_secret": "interop-cc-secret-0123456789abcdef",
        "refresh_skew_secs": 0,
        "timeout_ms": 20000,
    },
    check_client_credentials,
))
scenario(Scenario(
    "no-refresh-token",
    "an AS that issues no refresh token: authorize again after expiry",
    ["--no-refresh"],
    2,
    interactive,
    check_no_refresh,
))
scenario(Scenario(
    "forgotten-registration",
    "the AS restarts and forgets the registration: refresh refused (invalid_client), register again once",
    [],
    1,
    lambda c: dict(
        interactive(c),
        storage={"type": "file", "path": str(c.dir / "home" / "credentials.json")},
        redirect={"type": "loopback", "port": 0, "timeout_secs": 20, "open_browser": True},
    ),
    check_forgotten,
    forget=True,
))
