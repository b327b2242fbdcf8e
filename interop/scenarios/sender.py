"""Proof of possession and key-based client authentication against oidc-provider: DPoP-bound
tokens (RFC 9449) checked by a resource server that verifies the binding, and a pre-registered
client authenticating with `private_key_jwt` (RFC 7523)."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

from harness import SERVER_SETS, Cell, Scenario, Server, at_least, expect, interactive, scenario, server_set


def check_dpop(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 1)
    expect(p, "token requests refused", [e.get("error") for e in c.events("grant.error")], [])
    expect(p, "authorization_code grants", c.grants("authorization_code"), 1)
    at_least(p, "refresh_token grants (each with a DPoP proof: the client is DPoP-bound)", c.grants("refresh_token"), 1)
    issued = c.events("access_token.issued")
    keys = {e.get("jkt") for e in issued}
    at_least(p, "access tokens issued", len(issued), 2)
    expect(p, "keys the access tokens are bound to (cnf.jkt; one key for the session)", len(keys - {None}), 1)
    expect(p, "access tokens issued unbound", sum(e.get("jkt") is None for e in issued), 0)
    accepted = [r for r in c.rs_log if r["event"] == "accepted"]
    expect(p, "tokens the RS accepted whose cnf.jkt is not the AS's key", [r.get("jkt") for r in accepted if r.get("jkt") not in keys], [])
    expect(p, "requests the RS refused for their DPoP proof or binding", [r["reason"] for r in c.rs_log if r["event"] == "refused" and "dpop" in str(r.get("reason")).lower()], [])
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


scenario(Scenario(
    "dpop",
    "DPoP required (oidc-provider `dpop_bound_access_tokens`; the RS checks each proof and `cnf.jkt`): code, tool call, refresh after expiry",
    ["--dpop-required"],
    2,
    interactive,
    check_dpop,
    rs_args=["--dpop"],
    not_applicable={"python-cli": "`mcp-auth token` hands out the bare access token: a DPoP-bound token needs a proof for each request, which only a host on the library can make"},
))


@server_set("pkjwt")
def pkjwt(d: Path, s: Scenario) -> tuple[Cell, list[Server]]:
    """oidc-provider with `interop-pkjwt` (its public key from a key pair made for the cell) +
    the Python SDK resource server; the private key goes to the client's options."""
    key = d / "client-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)], check=True, capture_output=True)
    cell, servers = SERVER_SETS["oidc"](d, dataclasses.replace(s, as_flags=[*s.as_flags, "--private-key-jwt", str(key)]))
    cell.extra["client_key_pem"] = key.read_text()
    return cell, servers


def check_pkjwt(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 0)
    grants = c.events("grant.success", grant_type="client_credentials")
    at_least(p, "client_credentials grants", len(grants), 2)
    expect(p, "grants by another client or auth method", [(e.get("client_id"), e.get("auth_method")) for e in grants if (e.get("client_id"), e.get("auth_method")) != ("interop-pkjwt", "private_key_jwt")], [])
    expect(p, "token requests refused", [e.get("error") for e in c.events("grant.error")], [])
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


scenario(Scenario(
    "private-key-jwt",
    "pre-registered client with a public JWK at oidc-provider, `private_key_jwt` at the token endpoint (client_credentials), across an expiry",
    [],
    2,
    lambda c: {
        "server_url": c.resource,
        "grant": "client_credentials",
        "client_id": "interop-pkjwt",
        "private_key_pem": c.extra["client_key_pem"],
        "signing_algorithm": "ES256",
        "refresh_skew_secs": 0,
        "timeout_ms": 20000,
    },
    check_pkjwt,
    servers="pkjwt",
))
