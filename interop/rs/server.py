"""The interop suite's resource server: the official MCP Python SDK (`mcp`, pinned in
interop/requirements.txt), streamable HTTP, verifying oidc-provider's JWT access tokens.

    python rs/server.py PORT ISSUER LOG_JSONL [REQUIRED_SCOPE] [--dpop] [--no-prm] [--tool-scope TOOL=SCOPE ...]

`--tool-scope admin=mcp:admin` makes the `admin` tool need `mcp:admin` on top of the required
scope: a call with a token without it gets 403 `insufficient_scope` naming the scope (logged
as `refused`, reason `insufficient_scope`), the step-up challenge (SEP-835).

The verifier checks the signature against the issuer's JWKS, the issuer, the audience (this
server's URL, the RFC 8707 resource) and the expiry; every verification is appended to LOG_JSONL
(`accepted` with the token's client_id, jti and scope, or `refused` with the reason). The
suite counts tool calls from this log, not from what the client prints.

With `--dpop` the server requires DPoP-bound tokens (RFC 9449), which the SDK cannot do by
itself: `rs/dpop.py` wraps the app, announces `dpop_bound_access_tokens_required` in the
protected resource metadata, checks each request's DPoP proof (signature, `htm`, `htu`, `ath`,
`iat`, `jti` replay) and hands its key thumbprint to the verifier, which requires the token's
`cnf.jkt` to equal it; a bound token presented as a bearer token is refused.

With `--no-prm` the server behaves like those that predate RFC 9728 (Atlassian v1, some Okta
setups): its protected resource metadata answers 404 and its challenges carry no
`resource_metadata`, so the authorization server cannot be discovered from it (each hidden
request is logged as `prm_hidden`).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import jwt
import uvicorn
from dpop import DpopResourceServer, proof_jkt
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

args = sys.argv[1:]
tool_scopes: dict[str, list[str]] = {}
while "--tool-scope" in args:
    i = args.index("--tool-scope")
    tool, _, needed = args[i + 1].partition("=")
    tool_scopes[tool] = needed.split()
    del args[i : i + 2]
args = [a for a in args if not a.startswith("--")]
dpop = "--dpop" in sys.argv
no_prm = "--no-prm" in sys.argv
port, issuer, log_file = args[0], args[1], args[2]
required = args[3].split() if len(args) > 3 else ["mcp:tools"]
# The issuer of the tokens when the metadata names another URL for the AS (the Entra `/common`
# alias, whose tokens come from the tenant's issuer): scenarios/providers.py.
token_issuer = os.environ.get("INTEROP_TOKEN_ISSUER", issuer)
resource = f"http://127.0.0.1:{port}/mcp"


def log(record: dict[str, object]) -> None:
    with open(log_file, "a") as f:
        f.write(json.dumps(record) + "\n")


class JwtVerifier:
    def __init__(self) -> None:
        self.jwks = jwt.PyJWKClient(f"{token_issuer}/jwks")

    def claims(self, token: str) -> dict[str, object]:
        key = self.jwks.get_signing_key_from_jwt(token)
        return dict(
            jwt.decode(
                token,
                key.key,
                algorithms=["ES256", "RS256"],
                audience=resource,
                issuer=token_issuer,
                options={"require": ["exp", "aud", "iss"]},
            )
        )

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            claims = self.claims(token)
        except Exception as e:  # every refusal is logged with its reason
            log({"event": "refused", "reason": f"{type(e).__name__}: {e}", "at": time.time()})
            return None
        jkt = claims.get("cnf", {}).get("jkt") if isinstance(claims.get("cnf"), dict) else None
        if dpop and (jkt is None or jkt != proof_jkt.get()):
            why = "not DPoP-bound" if jkt is None else ("presented without a DPoP proof" if proof_jkt.get() is None else "cnf.jkt does not match the proof's key")
            log({"event": "refused", "reason": f"DPoP: the token is {why}", "jti": claims.get("jti"), "at": time.time()})
            return None
        scopes = str(claims.get("scope", "")).split()
        log(
            {
                "event": "accepted",
                "client_id": claims.get("client_id"),
                "jti": claims.get("jti"),
                "scope": scopes,
                "dpop": "cnf" in claims,
                "jkt": jkt,
                "at": time.time(),
            }
        )
        return AccessToken(
            token=token,
            client_id=str(claims.get("client_id")),
            scopes=scopes,
            expires_at=int(claims["exp"]),
            resource=resource,
            subject=claims.get("sub"),
        )


verifier = JwtVerifier()
server = MCPServer(
    "interop",
    token_verifier=verifier,
    auth=AuthSettings(
        issuer_url=issuer,
        resource_server_url=resource,
        required_scopes=required,
        validate_token_resource=True,
    ),
)


@server.tool()
def whoami() -> str:
    """The client and scope of the token this call came with."""
    token = get_access_token()
    assert token is not None
    log({"event": "tool_call", "tool": "whoami", "client_id": token.client_id})
    return json.dumps({"client_id": token.client_id, "scope": token.scopes})


@server.tool()
def admin() -> str:
    """A tool that may need a further scope (--tool-scope admin=SCOPE)."""
    token = get_access_token()
    assert token is not None
    log({"event": "tool_call", "tool": "admin", "client_id": token.client_id, "scope": token.scopes})
    return json.dumps({"client_id": token.client_id, "scope": token.scopes})


class ToolScopes:
    """ASGI middleware: a `tools/call` of a tool named by --tool-scope, with a valid token that
    lacks the tool's scope, gets 403 insufficient_scope (RFC 6750 §3.1) naming that scope."""

    def __init__(self, app, scopes: dict[str, list[str]]) -> None:  # noqa: ANN001 - ASGI app
        self.app, self.scopes = app, scopes

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        if scope["type"] != "http" or scope["method"] != "POST" or not self.scopes:
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        replayed = False

        async def replay() -> dict[str, object]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        needed = self.needed(body)
        headers = dict((k.decode().lower(), v.decode()) for k, v in scope["headers"])
        bearer = headers.get("authorization", "")
        if needed and bearer[:7].lower() == "bearer ":
            try:
                granted = str(verifier.claims(bearer[7:]).get("scope", "")).split()
            except Exception:  # the SDK's own check refuses it (401)
                granted = None
            missing = [s for s in needed if granted is not None and s not in granted]
            if missing:
                log({"event": "refused", "reason": "insufficient_scope", "missing": missing, "at": time.time()})
                challenge = (
                    f'Bearer error="insufficient_scope", scope="{" ".join(needed)}", '
                    f'resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"'
                )
                await send({"type": "http.response.start", "status": 403, "headers": [(b"www-authenticate", challenge.encode()), (b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"error": "insufficient_scope"}'})
                return None
        return await self.app(scope, replay, send)

    def needed(self, body: bytes) -> list[str]:
        try:
            message = json.loads(body)
        except ValueError:
            return []
        if not isinstance(message, dict) or message.get("method") != "tools/call":
            return []
        params = message.get("params") or {}
        return self.scopes.get(str(params.get("name")), []) if isinstance(params, dict) else []


class NoPrm:
    """ASGI middleware (--no-prm): protected resource metadata answers 404, and
    `resource_metadata` is removed from every `WWW-Authenticate` challenge."""

    def __init__(self, app) -> None:  # noqa: ANN001 - ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"].startswith("/.well-known/oauth-protected-resource"):
            log({"event": "prm_hidden", "path": scope["path"], "at": time.time()})
            await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": b"not found"})
            return None

        async def without_resource_metadata(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for k, v in message.get("headers", []):  # type: ignore[attr-defined]
                    if k.lower() == b"www-authenticate":
                        v = re.sub(rb',?\s*resource_metadata="[^"]*"', b"", v)
                    headers.append((k, v))
                message = dict(message, headers=headers)
            await send(message)

        return await self.app(scope, receive, without_resource_metadata)


app = ToolScopes(server.streamable_http_app(json_response=True), tool_scopes)
if no_prm:
    app = NoPrm(app)  # type: ignore[assignment]
if dpop:
    app = DpopResourceServer(app, resource, log)  # type: ignore[assignment]
log({"event": "listening", "resource": resource})
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")
