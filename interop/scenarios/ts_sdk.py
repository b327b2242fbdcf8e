"""The official TypeScript SDK's example server with its demo authorization server."""

from __future__ import annotations

from harness import Cell, Scenario, at_least, expect, interactive, scenario


def check_auth_method(c: Cell) -> list[str]:
    p: list[str] = []
    regs = c.exchanges("POST", "/register", 201)
    expect(p, "registrations", len(regs), 1)
    if regs:
        expect(p, "method asked for in the registration", regs[0].get("asked_auth_method"), "client_secret_post")
    expect(p, "token requests refused", [r.get("error") for r in c.exchanges("POST", "/token") if r["status"] != 200], [])
    codes = [r for r in c.exchanges("POST", "/token", 200) if r.get("grant_type") == "authorization_code"]
    expect(p, "authorization_code grants", len(codes), 1)
    if codes:
        expect(p, "client authentication at /token", "client_secret" in codes[0].get("body_members", []), True)
    expect(p, "MCP requests refused with a token", [r for r in c.exchanges("POST", "/mcp") if r["status"] == 401 and r.get("authorization")], [])
    at_least(p, "MCP requests sent with a bearer token", len([r for r in c.arrivals("POST", "/mcp") if r.get("authorization") == "bearer"]), 2)
    at_least(p, "tokens verified by the server (introspection)", len(c.exchanges("POST", "/introspect", 200)), 2)
    return p


scenario(Scenario(
    "auth-method",
    "TS SDK example server's demo AS: advertises client_secret_post + none (not the RFC 7591 default)",
    [],
    1,
    interactive,
    check_auth_method,
    servers="ts",
))
