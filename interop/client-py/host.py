"""The Python SDK columns of the interop suite (interop/run.py): an MCP host on the official
`mcp` package's streamable-HTTP client, authorized by an `httpx2.Auth`.

    python host.py dropin|reference OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON

Both columns run this same host; only the auth provider differs, as for a host that changes
one import:

- `dropin`: `mcp_auth.sdk.OAuthClientProvider` (the flow runs in mcp-auth's core);
- `reference`: the SDK's own `mcp.client.auth.OAuthClientProvider` (and its
  `ClientCredentialsOAuthProvider` / `PrivateKeyJWTOAuthProvider` extensions).

The host does what the SDK's examples do: an SDK `TokenStorage` (in memory, or a JSON file
when the options name a credentials file, so a second process finds the first one's tokens),
a `redirect_handler` that opens the browser (`webbrowser`, i.e. `$BROWSER`: interop/browser.py
plays the user) and a `callback_handler` that waits for the redirect on its own loopback
listener. The options JSON is the core's (what the Rust and C columns take); the host maps it
onto the SDK's constructor. Then `initialize` and CALLS times `tools/call` (TOOL_JSON, or
element i of a TOOL_JSON array), pausing PAUSE_SECS so the token expires in between; a session
the server ended ("Session not found") is started anew once. The suite judges from the servers'
records, not from this.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import traceback
import webbrowser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

# Core options the host itself maps (everything else goes to the drop-in as it is).
HOST_OPTIONS = {"server_url", "redirect", "storage", "client_name"}


class Storage:
    """The SDK's `TokenStorage` protocol, in memory or in a JSON file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None
        if path is not None and path.exists():
            data = json.loads(path.read_text())
            if data.get("tokens"):
                self.tokens = OAuthToken.model_validate(data["tokens"])
            if data.get("client_info"):
                self.client_info = OAuthClientInformationFull.model_validate(data["client_info"])

    def save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({
                "tokens": self.tokens.model_dump(mode="json") if self.tokens else None,
                "client_info": self.client_info.model_dump(mode="json") if self.client_info else None,
            }))

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        # Kept as given, as the SDK's example storage does (the SDK's own OAuthToken model
        # admits only token_type "Bearer", so re-validating would refuse a DPoP token).
        self.tokens = tokens
        self.save()

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info
        self.save()


class Callback:
    """The host's loopback redirect listener (what the SDK examples' callback server does)."""

    def __init__(self, host: str, port: int, path: str, wait: float) -> None:
        self.results: queue.Queue[dict[str, list[str]]] = queue.Queue()
        self.wait = wait
        results, want = self.results, path

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlsplit(self.path)
                if url.path != want:
                    self.send_error(404)
                    return
                results.put(parse_qs(url.query))
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<p>Authorization complete: you may close this window.</p>")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.redirect_uri = f"http://{host}:{self.server.server_port}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def redirect_handler(self, url: str) -> None:
        webbrowser.open(url)  # $BROWSER

    async def callback_handler(self) -> AuthorizationCodeResult:
        try:
            q = await anyio.to_thread.run_sync(lambda: self.results.get(timeout=self.wait))
        except queue.Empty:
            raise RuntimeError(f"no authorization came back within {self.wait:.0f} s") from None
        if "error" in q:
            raise RuntimeError(f"authorization refused: {q['error'][0]}: {q.get('error_description', [''])[0]}")
        return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0], iss=q.get("iss", [None])[0])


def metadata(options: dict[str, Any], redirect_uri: str | None, grant_types: list[str]) -> OAuthClientMetadata:
    return OAuthClientMetadata(
        client_name=options.get("client_name", "mcp-auth interop (SDK host)"),
        redirect_uris=[redirect_uri] if redirect_uri else None,  # type: ignore[list-item]
        grant_types=grant_types,  # type: ignore[arg-type]
        response_types=["code"] if redirect_uri else [],  # type: ignore[arg-type]
    )


def provider(kind: str, options: dict[str, Any], storage: Storage) -> httpx2.Auth:
    url = options["server_url"]
    grant = options.get("grant", "authorization_code")
    redirect = options.get("redirect", {"type": "headless"})
    callback = None
    if grant == "authorization_code" and redirect.get("type") == "loopback":
        callback = Callback(redirect.get("host", "127.0.0.1"), int(redirect.get("port", 0)),
                            redirect.get("path", "/callback"), float(redirect.get("timeout_secs", 60)))
    if kind == "dropin":
        from mcp_auth.sdk import OAuthClientProvider as DropIn

        rest = {k: v for k, v in options.items() if k not in HOST_OPTIONS}
        if callback is None and "redirect" in options:
            rest["redirect"] = redirect  # e.g. the device flow: the core's own handler
        md = metadata(options, callback.redirect_uri if callback else None,
                      [grant] if grant != "authorization_code" else ["authorization_code", "refresh_token"])
        return DropIn(url, md, storage,
                      callback.redirect_handler if callback else None,
                      callback.callback_handler if callback else None, **rest)
    from mcp.client.auth import OAuthClientProvider

    if grant == "client_credentials" and "private_key_pem" in options:
        from mcp.client.auth.extensions.client_credentials import PrivateKeyJWTOAuthProvider, SignedJWTParameters

        jwt = SignedJWTParameters(issuer=options["client_id"], subject=options["client_id"],
                                  signing_key=options["private_key_pem"],
                                  signing_algorithm=options.get("signing_algorithm", "ES256"))
        return PrivateKeyJWTOAuthProvider(url, storage, options["client_id"], jwt.create_assertion_provider(),
                                          scope=options.get("scope"))
    if grant == "client_credentials":
        from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider

        return ClientCredentialsOAuthProvider(url, storage, options["client_id"], options["client_secret"],
                                              scope=options.get("scope"))
    if grant != "authorization_code" or callback is None:
        raise SystemExit(f"the SDK client has no {grant} grant / {redirect.get('type')} redirect")
    if "client_id" in options and storage.client_info is None:
        # A pre-registered client: the SDK takes it from the storage.
        storage.client_info = OAuthClientInformationFull(
            client_id=options["client_id"], client_secret=options.get("client_secret"),
            redirect_uris=[callback.redirect_uri],  # type: ignore[list-item]
            token_endpoint_auth_method=options.get("token_endpoint_auth_method", "none" if "client_secret" not in options else "client_secret_basic"),
            grant_types=["authorization_code", "refresh_token"], response_types=["code"])
    md = metadata(options, callback.redirect_uri, ["authorization_code", "refresh_token"])
    return OAuthClientProvider(url, md, storage, callback.redirect_handler, callback.callback_handler)


async def run(kind: str, options: dict[str, Any], calls: int, pause: float, tool: dict[str, Any] | list[dict[str, Any]]) -> None:
    store = options.get("storage", {})
    storage = Storage(Path(store["path"] + ".sdk.json") if store.get("type") == "file" else None)
    auth = provider(kind, options, storage)
    async with httpx2.AsyncClient(auth=auth, timeout=30) as http:
        i, renewed = 0, False
        while i < calls:
            async with streamable_http_client(options["server_url"], http_client=http) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    try:
                        while i < calls:
                            if i:
                                await anyio.sleep(pause)
                            # TOOL_JSON may be a list: call i uses element i (the last one repeated).
                            params = tool[min(i, len(tool) - 1)] if isinstance(tool, list) else tool
                            r = await session.call_tool(params["name"], params.get("arguments", {}))
                            text = r.content[0].text if r.content else ""  # type: ignore[union-attr]
                            print(f"call {i}: {'error ' if r.is_error else ''}{text}", flush=True)
                            if r.is_error:
                                raise RuntimeError(f"tools/call answered an error: {text}")
                            i += 1
                    except MCPError as e:
                        # MCP streamable HTTP: the server ended the session (the SDK server does
                        # when the client registration changed); start a new one, once.
                        if renewed or "Session not found" not in str(e):
                            raise
                        renewed = True
                        print(f"session gone ({e}): initializing again", file=sys.stderr, flush=True)


def leaves(e: BaseException) -> list[BaseException]:
    """The exceptions inside (task-group) exception groups."""
    if isinstance(e, BaseExceptionGroup):
        return [x for sub in e.exceptions for x in leaves(sub)]
    return [e]


def main() -> int:
    kind, options, calls, pause, tool = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), json.loads(sys.argv[5])
    try:
        anyio.run(run, kind, options, calls, pause, tool)
    except BaseException as e:  # noqa: BLE001 - every failure is the host's answer
        if isinstance(e, SystemExit) and isinstance(e.code, int):
            raise
        for x in leaves(e):
            traceback.print_exception(x, file=sys.stderr)
        print("error: " + " | ".join(f"{type(x).__name__}: {x}" for x in leaves(e)), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
