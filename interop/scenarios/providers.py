"""Provider quirks (docs/providers.md): oidc-provider made to behave like Entra ID, Auth0,
Google, the exact-redirect providers (Slack, Cognito, GitHub), an AS whose metadata names
another issuer (Clerk-backed servers, Atlassian authv2) and a device-flow AS
(interop/oidc/quirks.mjs), and the Python SDK's resource server made to publish no protected
resource metadata (Atlassian v1, some Okta setups; rs/server.py --no-prm). Each quirk is two
scenarios: with the profile or override the flow passes (judged from the servers' records),
without it the client fails with an error that names the fix, and the servers' records show
where it stopped."""

from __future__ import annotations

from pathlib import Path

from harness import VENV_PY, Cell, Scenario, Server, at_least, expect, free_port, interactive, scenario, server_set

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@server_set("quirks")
def quirks(d: Path, s: Scenario) -> tuple[Cell, list[Server]]:
    """oidc/quirks.mjs (the scenario's flags; `{redirect_port}` is a port kept free for the
    client's loopback listener) + the Python SDK resource server."""
    as_port, rs_port, redirect_port = free_port(), free_port(), free_port()
    origin = f"http://127.0.0.1:{as_port}"
    cell = Cell(d, f"http://127.0.0.1:{rs_port}/mcp", origin)
    cell.extra["redirect_port"] = redirect_port
    cell.extra["as_origin"] = origin
    flags = [f.replace("{redirect_port}", str(redirect_port)) for f in s.as_flags]
    rs_env: dict[str, str] = {}
    if "--tenant" in flags:
        # Entra multi-tenant: the PRM names the /common alias; tokens come from the tenant.
        cell.issuer = f"{origin}/common/v2.0"
        rs_env["INTEROP_TOKEN_ISSUER"] = f"{origin}/{flags[flags.index('--tenant') + 1]}/v2.0"
    if "--alias-metadata" in flags:
        # The PRM names the AS as {origin}/alias; its metadata there says {origin}.
        cell.issuer = f"{origin}/alias"
        rs_env["INTEROP_TOKEN_ISSUER"] = origin
    return cell, [
        Server("oidc-provider (quirks)", ["node", "oidc/quirks.mjs", str(as_port), cell.resource, str(d / "as.jsonl"), *flags], as_port, d / "as.out"),
        Server("mcp (Python SDK) resource server", [str(VENV_PY), "rs/server.py", str(rs_port), cell.issuer, str(d / "rs.jsonl"), *s.rs_args], rs_port, d / "rs.out", env=rs_env),
    ]


def refused(c: Cell) -> list[dict[str, object]]:
    return c.events("quirk.refused")


def flow_passed(c: Cell, *, refresh: bool = True, grant: str = "authorization_code") -> list[str]:
    """The code (or device) grant, a tool call, a refresh after expiry, a second tool call;
    and nothing refused by the quirk."""
    p: list[str] = []
    expect(p, "requests the quirk refused", [e.get("error") for e in refused(c)], [])
    expect(p, f"{grant} grants", c.grants(grant), 1)
    if refresh:
        at_least(p, "refresh_token grants", c.grants("refresh_token"), 1)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


def refused_with(error: str):  # noqa: ANN201 - a check
    def check(c: Cell) -> list[str]:
        p: list[str] = []
        at_least(p, f"authorization requests the quirk refused with {error}", len([e for e in refused(c) if e.get("error") == error]), 1)
        expect(p, "tokens issued", c.grants("authorization_code"), 0)
        expect(p, "tool calls at the RS", c.tool_calls(), 0)
        return p

    return check


def options(**extra: object):  # noqa: ANN201 - an options factory
    return lambda c: dict(interactive(c), **extra)


# --- Entra ID: `resource` refused (AADSTS9010010).
scenario(Scenario(
    "entra-resource",
    "Entra-like AS refuses `resource` (AADSTS9010010): `overrides.resource: false` / `--no-resource`",
    ["--reject-resource"], 2, options(overrides={"resource": False}), flow_passed,
    servers="quirks", cli_args=["--no-resource"],
))
scenario(Scenario(
    "entra-resource-unfixed",
    "the same without the override: refused, and the error names `overrides.resource` and the `entra` profile",
    ["--reject-resource"], 1, interactive, refused_with("invalid_target"),
    servers="quirks", expect_failure="overrides.resource",
))

# --- Entra ID multi-tenant: the /common metadata names the `{tenantid}` issuer template.
def check_no_authorization(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "authorization requests (the metadata was refused first)", len(c.events("interaction.started")), 0)
    expect(p, "tokens issued", len(c.events("grant.success")), 0)
    return p


scenario(Scenario(
    "entra-tenant",
    "Entra-like `/common` metadata naming `{tenantid}/v2.0` (and `resource` refused): profile `entra` checks the template against the token's `tid`",
    ["--tenant", "0b5d2c1e-7e4f-4e59-9d2a-1f6a3c0d9e11", "--reject-resource"], 2, options(provider="entra"), flow_passed,
    servers="quirks", cli_args=["--provider", "entra"],
))
scenario(Scenario(
    "entra-tenant-unfixed",
    "the same without the profile: the RFC 8414 issuer mismatch stops the flow before any authorization, naming `entra`",
    ["--tenant", "0b5d2c1e-7e4f-4e59-9d2a-1f6a3c0d9e11", "--reject-resource"], 1, interactive, check_no_authorization,
    servers="quirks", expect_failure="provider \"entra\"",
))

# --- Auth0: `audience`, not `resource`.
scenario(Scenario(
    "auth0-audience",
    "Auth0-like AS needs `audience` (ignores `resource`): profile `auth0` sends `audience={resource}`",
    ["--require-audience"], 2, options(provider="auth0"), flow_passed,
    servers="quirks", cli_args=["--provider", "auth0"],
))
scenario(Scenario(
    "auth0-audience-unfixed",
    "the same without the profile: refused, and the error names `audience` and the `auth0` profile",
    ["--require-audience"], 1, interactive, refused_with("invalid_request"),
    servers="quirks", expect_failure="auth0",
))

# --- Google: no offline_access; refresh tokens only with access_type=offline.
scenario(Scenario(
    "google-offline",
    "Google-like AS refuses `offline_access`, refreshes only with `access_type=offline`: profile `google`",
    ["--google"], 2, options(provider="google"), flow_passed,
    servers="quirks", cli_args=["--provider", "google"],
))
scenario(Scenario(
    "google-offline-unfixed",
    "the same without the profile: `invalid_scope`, and the error names `overrides.drop_scopes` and `google`",
    ["--google"], 1, interactive, refused_with("invalid_scope"),
    servers="quirks", expect_failure="overrides.drop_scopes",
))


# --- Slack, Cognito, GitHub: a fixed redirect URI, compared exactly.
def fixed_redirect(c: Cell) -> dict[str, object]:
    return dict(
        interactive(c),
        client_id="interop-fixed",
        redirect={"type": "loopback", "host": "localhost", "port": c.extra["redirect_port"], "path": "/cb", "timeout_secs": 60, "open_browser": True},
    )


def check_fixed_redirect(c: Cell) -> list[str]:
    p = flow_passed(c)
    expect(p, "registrations (a pre-registered client)", len(c.events("registration_create.success")), 0)
    return p


def check_wrong_redirect(c: Cell) -> list[str]:
    p: list[str] = []
    errors = [str(e.get("error", "")) for e in c.events("authorization.error")]
    at_least(p, "authorization requests the AS refused for their redirect_uri", len([e for e in errors if "redirect_uri" in e]), 1)
    expect(p, "tokens issued", c.grants("authorization_code"), 0)
    return p


scenario(Scenario(
    "exact-redirect",
    "AS compares redirect URIs exactly (client registered with `http://localhost:PORT/cb`): redirect host, port and path set to match",
    ["--fixed-redirect", "http://localhost:{redirect_port}/cb"], 2, fixed_redirect, check_fixed_redirect,
    servers="quirks",
    cli_login_args=["--client-id", "interop-fixed", "--redirect-host", "localhost", "--port", "{redirect_port}", "--redirect-path", "/cb"],
))
scenario(Scenario(
    "exact-redirect-unfixed",
    "the same with the default redirect (`http://127.0.0.1:EPHEMERAL/callback`): the AS shows an error page; the error names the redirect settings",
    ["--fixed-redirect", "http://localhost:{redirect_port}/cb"], 1,
    lambda c: dict(interactive(c), client_id="interop-fixed", redirect={"type": "loopback", "port": 0, "timeout_secs": 15, "open_browser": True}),
    check_wrong_redirect,
    servers="quirks", cli_login_args=["--client-id", "interop-fixed", "--wait", "15"],
    expect_failure="set the redirect host, port and path",
    not_applicable={"python-sdk-dropin": "the SDK's handler shape: the host's own callback handler waits for the redirect, so the error is the host's, not mcp-auth's loopback listener's"},
))


# --- Headless: the RFC 8628 device authorization grant.
def check_device(c: Cell) -> list[str]:
    p = flow_passed(c, grant=DEVICE_GRANT)
    expect(p, "registrations", len(c.events("registration_create.success")), 1)
    return p


def check_no_device(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "tokens issued", len(c.events("grant.success")), 0)
    return p


scenario(Scenario(
    "device-flow",
    "AS offers `device_authorization_endpoint`: device code grant (RFC 8628), code entered in the browser, refresh after expiry",
    ["--device"], 2, options(grant="device_code", redirect={"type": "device", "open_browser": True}), check_device,
    servers="quirks", cli_login_args=["--device"],
))
scenario(Scenario(
    "device-flow-unoffered",
    "an AS without device flow: the device login fails before any token request, naming paste-back",
    [], 1, options(grant="device_code", redirect={"type": "device", "open_browser": True}), check_no_device,
    servers="quirks", cli_login_args=["--device"], expect_failure="paste",
))


# --- Issuer mismatch (Clerk-backed servers, Atlassian authv2, Salesforce): the metadata found
# for the issuer the PRM names says another issuer (RFC 8414 §3.3).
ALIAS_METADATA = "{as_origin}/alias/.well-known/openid-configuration"


def trust_alias(c: Cell) -> dict[str, object]:
    origin = str(c.extra["as_origin"])
    trusted = {"issuer": origin, "metadata_url": ALIAS_METADATA.replace("{as_origin}", origin)}
    return dict(interactive(c), overrides={"trusted_issuers": [trusted]})


def check_alias_metadata(c: Cell) -> list[str]:
    p = flow_passed(c)
    at_least(p, "metadata requests at the mismatching location", len(c.events("quirk.alias_metadata")), 1)
    return p


def check_mismatch_refused(c: Cell) -> list[str]:
    p = check_no_authorization(c)
    at_least(p, "metadata requests at the mismatching location", len(c.events("quirk.alias_metadata")), 1)
    return p


scenario(Scenario(
    "issuer-mismatch",
    "the PRM names `AS/alias`, whose metadata says issuer `AS`: `overrides.trusted_issuers` accepts exactly that pair (`--trust-issuer`)",
    ["--alias-metadata"], 2, trust_alias, check_alias_metadata,
    servers="quirks", cli_args=["--trust-issuer", "{as_origin}=" + ALIAS_METADATA],
))
scenario(Scenario(
    "issuer-mismatch-unfixed",
    "the same without the allowlist: the RFC 8414 issuer check stops the flow before any authorization, naming `overrides.trusted_issuers`",
    ["--alias-metadata"], 1, interactive, check_mismatch_refused,
    servers="quirks", expect_failure="overrides.trusted_issuers",
))


# --- A resource server without RFC 9728 metadata: the AS is named by the host.
def check_prm_hidden(c: Cell) -> list[str]:
    p: list[str] = []
    at_least(p, "protected resource metadata requests answered 404 by the RS", len([r for r in c.rs_log if r.get("event") == "prm_hidden"]), 1)
    return p


def check_named_as(c: Cell) -> list[str]:
    return check_prm_hidden(c) + flow_passed(c)


def check_undiscoverable(c: Cell) -> list[str]:
    return check_prm_hidden(c) + check_no_authorization(c)


scenario(Scenario(
    "no-prm",
    "the MCP server publishes no protected resource metadata: `overrides.authorization_server` names the AS (`--authorization-server`)",
    [], 2, lambda c: dict(interactive(c), overrides={"authorization_server": c.extra["as_origin"]}), check_named_as,
    servers="quirks", rs_args=["--no-prm"], cli_args=["--authorization-server", "{as_origin}"],
))
scenario(Scenario(
    "no-prm-unfixed",
    "the same without the override: discovery fails before any authorization, naming `overrides.authorization_server`",
    [], 1, interactive, check_undiscoverable,
    servers="quirks", rs_args=["--no-prm"], expect_failure="overrides.authorization_server",
))
