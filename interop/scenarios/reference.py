"""The reference column (`python-sdk-reference`): the official Python SDK's own
`OAuthClientProvider` in the same host as the drop-in column. Where it fails, the failure is
the SDK's, not mcp-auth's; each is recorded here with the symptom it must show, so the table
stays true when the SDK changes."""

from __future__ import annotations

from harness import known_failure

SURFACE = "python-sdk-reference"


def reference_failure(scenario_name: str, reason: str, symptom: str) -> None:
    known_failure(scenario_name, SURFACE, f"the SDK's own client, not mcp-auth: {reason}", symptom)


reference_failure(
    "auth-method",
    "with the model's default metadata (no `token_endpoint_auth_method`) it registers without "
    "asking for a method; the TS demo AS issues a `client_secret` and names no method, and the "
    "SDK treats the missing method as `none`, so its code exchange carries no client "
    "authentication and is refused",
    "Client secret is required",
)
reference_failure(
    "forgotten-registration",
    "after the AS restarted it keeps using the stored registration the AS no longer knows; the "
    "AS shows the browser an error page for the unknown `client_id` and no redirect comes back",
    "no authorization came back",
)
reference_failure(
    "entra-resource",
    "it always sends `resource` (no override), which the Entra-like AS refuses",
    "invalid_target",
)
reference_failure(
    "entra-tenant",
    "no provider profile: the `{tenantid}` issuer template in the `/common` metadata fails its "
    "RFC 8414 issuer check",
    "issuer mismatch",
)
reference_failure(
    "auth0-audience",
    "no way to send `audience`: the Auth0-like AS refuses the authorization request",
    "audience is required",
)
reference_failure(
    "google-offline",
    "it asks for `offline_access` (advertised by the AS) and cannot drop it; the Google-like AS "
    "refuses the scope",
    "invalid_scope",
)
reference_failure(
    "issuer-mismatch",
    "no trusted-issuer allowlist: the metadata found for the issuer the PRM names says another "
    "issuer, and its RFC 8414 check stops the flow",
    "issuer mismatch",
)
reference_failure(
    "no-prm",
    "no way to name the authorization server: without protected resource metadata it falls back "
    "to the MCP server's origin, which serves no registration endpoint",
    "Registration failed: 404",
)
reference_failure(
    "dpop",
    "it has no DPoP: its code exchange carries no proof and the AS, which requires DPoP-bound "
    "tokens for the client, refuses it",
    "DPoP proof JWT not provided",
)
reference_failure(
    "authlib-no-refresh-token",
    "its default metadata asks for the `refresh_token` grant the AS does not advertise, and "
    "authlib refuses the registration (mcp-auth keeps to `grant_types_supported`)",
    "Invalid claim: 'grant_types'",
)
