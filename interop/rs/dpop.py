"""DPoP (RFC 9449) for the interop suite's resource server (rs/server.py --dpop).

The official Python SDK's resource server only knows bearer tokens, so this ASGI wrapper does
what a DPoP resource server does in front of it:

- the protected resource metadata gains `dpop_bound_access_tokens_required: true` and
  `dpop_signing_alg_values_supported` (RFC 9449 §5.2), and every 401 carries a `DPoP`
  challenge next to the SDK's `Bearer` one (§7.1);
- a request with `Authorization: DPoP TOKEN` must carry a valid `DPoP` proof: a `dpop+jwt`
  signed by the public key in its header, `htm`/`htu` naming this request, `iat` recent, `ath`
  the hash of TOKEN, `jti` not seen before (§4.3, §7.1). Then the SDK sees `Bearer TOKEN` and
  the proof key's thumbprint (RFC 7638) is in `proof_jkt` for the token verifier, which
  requires the token's `cnf.jkt` to equal it (§6). A bad proof is refused with
  `invalid_dpop_proof` and logged.
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

ALGS = ["ES256", "RS256", "PS256", "EdDSA"]
# The thumbprint of the key that signed this request's DPoP proof (None: no proof).
proof_jkt: contextvars.ContextVar[str | None] = contextvars.ContextVar("proof_jkt", default=None)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, no whitespace."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode()).digest())


class DpopResourceServer:
    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], resource: str, log: Callable[[dict[str, object]], None]) -> None:
        self.app, self.resource, self.log = app, resource, log
        self.seen: set[str] = set()

    def check(self, proof: str | None, token: str, method: str) -> str:
        """The proof's key thumbprint, or ValueError saying what is wrong."""
        if not proof:
            raise ValueError("no DPoP proof")
        try:
            header = jwt.get_unverified_header(proof)
            jwk = header.get("jwk")
            if header.get("typ") != "dpop+jwt" or header.get("alg") not in ALGS or not isinstance(jwk, dict) or "d" in jwk:
                raise ValueError(f"bad proof header {header}")
            key = jwt.PyJWK(jwk, algorithm=header["alg"])
            claims = jwt.decode(proof, key.key, algorithms=[header["alg"]], options={"require": ["iat", "jti", "htm", "htu"], "verify_aud": False})
        except jwt.PyJWTError as e:
            raise ValueError(f"{type(e).__name__}: {e}") from None
        if claims["htm"] != method:
            raise ValueError(f"htm {claims['htm']} for a {method}")
        if str(claims["htu"]).split("?")[0].split("#")[0] != self.resource:
            raise ValueError(f"htu {claims['htu']} is not {self.resource}")
        if abs(time.time() - float(claims["iat"])) > 60:
            raise ValueError("iat not recent")
        if claims["jti"] in self.seen:
            raise ValueError("jti replayed")
        self.seen.add(str(claims["jti"]))
        if claims.get("ath") != b64url(hashlib.sha256(token.encode()).digest()):
            raise ValueError("ath is not the hash of the access token")
        return thumbprint(jwk)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith("/.well-known/oauth-protected-resource"):
            await self.metadata(scope, receive, send)
            return
        headers = [(k.lower(), v) for k, v in scope["headers"]]
        auth = next((v.decode("latin-1") for k, v in headers if k == b"authorization"), "")
        proof = next((v.decode("latin-1") for k, v in headers if k == b"dpop"), None)
        proof_jkt.set(None)
        if auth[:5].lower() == "dpop ":
            token = auth[5:].strip()
            try:
                proof_jkt.set(self.check(proof, token, scope["method"]))
            except ValueError as e:
                self.log({"event": "refused", "reason": f"invalid_dpop_proof: {e}", "at": time.time()})
                await self.refuse(send, "invalid_dpop_proof", str(e))
                return
            rest = [(k, v) for k, v in scope["headers"] if k.lower() != b"authorization"]
            scope = dict(scope, headers=[*rest, (b"authorization", f"Bearer {token}".encode("latin-1"))])

        async def challenge(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                message = dict(message, headers=[*message["headers"], (b"www-authenticate", self.dpop_challenge().encode())])
            await send(message)

        await self.app(scope, receive, challenge)

    def dpop_challenge(self, error: str | None = None, description: str | None = None) -> str:
        c = f'DPoP algs="{" ".join(ALGS)}"'
        if error:
            c += f', error="{error}", error_description="{(description or "").replace(chr(34), chr(39))}"'
        return c

    async def refuse(self, send: Send, error: str, description: str) -> None:
        body = json.dumps({"error": error, "error_description": description}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", self.dpop_challenge(error, description).encode()),
        ]})
        await send({"type": "http.response.body", "body": body})

    async def metadata(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The SDK's protected resource metadata, with the DPoP members added."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def collect(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        body = b"".join(chunks)
        if start.get("status") == 200:
            doc = json.loads(body)
            doc.update(dpop_bound_access_tokens_required=True, dpop_signing_alg_values_supported=ALGS)
            body = json.dumps(doc).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send(dict(start, headers=[*headers, (b"content-length", str(len(body)).encode())]))
        await send({"type": "http.response.body", "body": body})
