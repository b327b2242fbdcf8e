"""The interop suite's third authorization server family: Python `authlib` (pinned in
interop/requirements.txt) on Flask, configured as an MCP authorization server on loopback.

    python authlib/server.py PORT RESOURCE EVENTS_JSONL [--no-refresh]

authlib's own endpoint classes do the protocol: RFC 8414 metadata, dynamic registration (RFC
7591, `ClientRegistrationEndpoint`), the authorization code grant with PKCE required (RFC 7636,
`CodeChallenge(required=True)`), refresh-token rotation (`RefreshTokenGrant`), client
authentication (`client_secret_basic`, `client_secret_post`, `none`), and RFC 9068 JWT access
tokens (`JWTBearerTokenGenerator`) for RESOURCE, signed ES256, living INTEROP_TOKEN_TTL seconds.
What this file adds is what authlib leaves to the application: in-memory storage, the
login-and-consent page (interop/browser.py fills it), and the audience (authlib does not implement RFC 8707 yet, so
the token's `aud` is RESOURCE, the one resource this AS serves).

Every step is appended to EVENTS_JSONL with the event names the oidc-provider server uses
(`registration_create.success`, `interaction.started`, `grant.success` with `grant_type`,
`refresh_token.consumed`, `grant.error`), so the suite's checks read both alike.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from authlib.jose import JsonWebKey
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask, Response, jsonify, request

port, resource, events_file = sys.argv[1], sys.argv[2], sys.argv[3]
no_refresh = "--no-refresh" in sys.argv
issuer = f"http://127.0.0.1:{port}"
TOKEN_TTL = int(os.environ["INTEROP_TOKEN_TTL"])  # seconds, from the suite (interop/harness.py)
SCOPES = ["mcp:tools"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
KEY = JsonWebKey.generate_key("EC", "P-256", is_private=True, options={"kid": secrets.token_hex(8), "use": "sig", "alg": "ES256"})

METADATA = {
    "issuer": issuer,
    "authorization_endpoint": f"{issuer}/authorize",
    "token_endpoint": f"{issuer}/token",
    "registration_endpoint": f"{issuer}/register",
    "jwks_uri": f"{issuer}/jwks",
    "scopes_supported": SCOPES,
    "response_types_supported": ["code"],
    "grant_types_supported": ["authorization_code"] + ([] if no_refresh else ["refresh_token"]),
    "token_endpoint_auth_methods_supported": AUTH_METHODS,
    "code_challenge_methods_supported": ["S256"],
}


def log(event: str, **fields: Any) -> None:
    with open(events_file, "a") as f:
        f.write(json.dumps({"event": event, **fields}) + "\n")


class User:
    def get_user_id(self) -> str:
        return "interop-user"


USER = User()


def is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "::1", "localhost")


class Client(ClientMixin):
    def __init__(self, info: dict[str, Any], metadata: dict[str, Any]) -> None:
        self.client_id, self.client_secret, self.metadata = info["client_id"], info.get("client_secret"), metadata

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.metadata["redirect_uris"][0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # RFC 8252 §7.3: a loopback redirect URI may use any port.
        def same(a: str, b: str) -> bool:
            x, y = urlsplit(a), urlsplit(b)
            return a == b or (is_loopback(a) and (x.scheme, x.hostname, x.path) == (y.scheme, y.hostname, y.path))

        return any(same(redirect_uri, r) for r in self.metadata.get("redirect_uris", []))

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and hmac.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == self.metadata.get("token_endpoint_auth_method", "client_secret_basic")

    def check_response_type(self, response_type: str) -> bool:
        return response_type in self.metadata.get("response_types", ["code"])

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.metadata.get("grant_types", ["authorization_code"])


class Code(AuthorizationCodeMixin):
    def __init__(self, code: str, client_id: str, redirect_uri: str, scope: str, challenge: str | None, method: str | None) -> None:
        self.code, self.client_id, self.redirect_uri, self.scope = code, client_id, redirect_uri, scope
        self.code_challenge, self.code_challenge_method = challenge, method
        self.expires_at = time.time() + 60

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class RefreshToken(TokenMixin):
    def __init__(self, token: str, client_id: str, scope: str) -> None:
        self.token, self.client_id, self.scope, self.revoked = token, client_id, scope, False

    def check_client(self, client: ClientMixin) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return 3600

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.revoked


CLIENTS: dict[str, Client] = {}
CODES: dict[str, Code] = {}
REFRESH: dict[str, RefreshToken] = {}


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        CODES[code] = Code(code, request.client.client_id, data.get("redirect_uri"), request.scope,
                           data.get("code_challenge"), data.get("code_challenge_method"))

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        item = CODES.get(code)
        if item is not None and item.client_id == client.client_id and item.expires_at > time.time():
            return item
        return None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        CODES.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> User:
        return USER


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        item = REFRESH.get(refresh_token)
        return item if item is not None and not item.revoked else None

    def authenticate_user(self, refresh_token: RefreshToken) -> User:
        return USER

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        refresh_token.revoked = True
        log("refresh_token.consumed", client_id=refresh_token.client_id)


class Registration(ClientRegistrationEndpoint):
    def authenticate_token(self, request: Any) -> bool:
        return True  # open registration (RFC 7591 §3)

    def get_server_metadata(self) -> dict[str, Any]:
        return METADATA

    def save_client(self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any) -> Client:
        client_metadata.setdefault("token_endpoint_auth_method", "client_secret_basic")
        if client_metadata["token_endpoint_auth_method"] == "none":
            client_info.pop("client_secret", None)
        client = Client(client_info, client_metadata)
        CLIENTS[client.client_id] = client
        log("registration_create.success", client_id=client.client_id, auth_method=client_metadata["token_endpoint_auth_method"])
        return client


class Tokens(JWTBearerTokenGenerator):
    def get_jwks(self) -> dict[str, Any]:
        return {"keys": [KEY.as_dict(is_private=True)]}

    def get_audiences(self, client: Client, user: Any, scope: str) -> str:
        return resource


def save_token(token: dict[str, Any], request: Any) -> None:
    grant_type = request.payload.grant_type
    if token.get("refresh_token"):
        REFRESH[token["refresh_token"]] = RefreshToken(token["refresh_token"], request.client.client_id, token.get("scope", ""))
    log("grant.success", client_id=request.client.client_id, grant_type=grant_type, scope=token.get("scope"))


app = Flask(__name__)
server = AuthorizationServer(app, query_client=CLIENTS.get, save_token=save_token)
server.register_token_generator("default", Tokens(issuer, alg="ES256", refresh_token_generator=None if no_refresh else (lambda **_: secrets.token_urlsafe(32)), expires_generator=lambda client, grant_type: TOKEN_TTL))
server.register_grant(AuthorizationCodeGrant, [CodeChallenge(required=True)])
if not no_refresh:
    server.register_grant(RefreshTokenGrant)
server.register_endpoint(Registration)

PAGE = """<!doctype html><title>authlib: sign in</title>
<p>{client} asks for <code>{scope}</code>.</p>
<form method="post" action="{action}">
<input type="hidden" name="prompt" value="login">
<input name="login" placeholder="login"><input name="password" type="password">
<button type="submit">Sign in and allow</button></form>"""


@app.get("/.well-known/oauth-authorization-server")
def metadata() -> Response:
    return jsonify(METADATA)


@app.get("/jwks")
def jwks() -> Response:
    return jsonify({"keys": [KEY.as_dict(is_private=False)]})


@app.route("/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    if request.method == "GET":
        try:
            grant = server.get_consent_grant(end_user=USER)
        except Exception as e:  # noqa: BLE001 - an error page, as a real AS shows one
            log("authorization.error", client_id=request.args.get("client_id"), error=str(e))
            return Response(f"<p>authorization error: {e}</p>", status=400, content_type="text/html")
        log("interaction.started", client_id=grant.client.client_id, scope=grant.request.scope)
        action = "/authorize?" + request.query_string.decode()
        return Response(PAGE.format(client=grant.client.client_id, scope=grant.request.scope, action=action.replace('"', "&quot;")), content_type="text/html")
    if not request.form.get("login"):
        return Response("<p>login required</p>", status=400, content_type="text/html")
    log("interaction.ended", client_id=request.args.get("client_id"))
    return server.create_authorization_response(grant_user=USER)


@app.post("/token")
def token() -> Response:
    return server.create_token_response()


@app.post("/register")
def register() -> Response:
    return server.create_endpoint_response("client_registration")


@app.after_request
def errors(response: Response) -> Response:
    if request.path == "/token" and response.status_code != 200:
        body = response.get_json(silent=True) or {}
        log("grant.error", client_id=None, grant_type=request.form.get("grant_type"), error=f"{body.get('error')}: {body.get('error_description', '')}")
    if request.path == "/register" and response.status_code >= 400:
        body = response.get_json(silent=True) or {}
        log("registration_create.error", error=f"{body.get('error')}: {body.get('error_description', '')}")
    return response


if __name__ == "__main__":
    log("listening", issuer=issuer)
    app.run(host="127.0.0.1", port=int(port), threaded=True)
