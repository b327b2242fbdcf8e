"""A third authorization server family: Python `authlib` (interop/authlib/server.py) in front of
the Python SDK resource server, judged by the same checks as oidc-provider's flows (the server
logs the same event names)."""

from __future__ import annotations

from pathlib import Path

from harness import VENV_PY, Cell, Scenario, Server, expect, free_port, interactive, scenario, server_set
from scenarios.basic import check_code_refresh, check_no_refresh


@server_set("authlib")
def authlib_servers(d: Path, s: Scenario) -> tuple[Cell, list[Server]]:
    """authlib on Flask (flags from the scenario) + the Python SDK resource server."""
    as_port, rs_port = free_port(), free_port()
    cell = Cell(d, f"http://127.0.0.1:{rs_port}/mcp", f"http://127.0.0.1:{as_port}")
    return cell, [
        Server("authlib authorization server", [str(VENV_PY), "authlib/server.py", str(as_port), cell.resource, str(d / "as.jsonl"), *s.as_flags], as_port, d / "as.out"),
        Server("mcp (Python SDK) resource server", [str(VENV_PY), "rs/server.py", str(rs_port), cell.issuer, str(d / "rs.jsonl"), *s.rs_args], rs_port, d / "rs.out"),
    ]


def registered(check):  # noqa: ANN001,ANN201 - wraps a check
    """The check, after the registrations authlib refused (with its reason)."""

    def with_registration(c: Cell) -> list[str]:
        p: list[str] = []
        expect(p, "registrations refused", [e.get("error") for e in c.events("registration_create.error")], [])
        return p + check(c)

    return with_registration


scenario(Scenario(
    "authlib-code-refresh",
    "authlib AS (RFC 7591 registration, PKCE, RFC 9068 JWT tokens, rotation): code (login + consent in the browser), tool call, refresh after expiry",
    [],
    2,
    interactive,
    registered(check_code_refresh),
    servers="authlib",
))
scenario(Scenario(
    "authlib-no-refresh-token",
    "authlib AS without the refresh_token grant: authorize again after expiry",
    ["--no-refresh"],
    2,
    interactive,
    registered(check_no_refresh),
    servers="authlib",
))
