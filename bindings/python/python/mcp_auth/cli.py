"""mcp-auth: MCP authorization from the command line.

  mcp-auth probe URL     the challenge and the discovery chain, step by step
  mcp-auth login URL     authorize in a browser; tokens go to the credential file
  mcp-auth status URL    what is stored for URL: token, expiry, scope, client
  mcp-auth token URL     print a valid access token (refreshed if needed)
  mcp-auth logout URL    revoke and forget the tokens of URL (--forget-client: the registration too)

Full documentation: docs/cli.md.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from . import _errors as E
from ._client import Client
from ._native import FileStorage, OAuthClientInformationFull, TraceEvent, __version__

T = TypeVar("T")

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NETWORK = 3
EXIT_SERVER = 4
EXIT_AUTH = 5
EXIT_SECURITY = 6
EXIT_NOT_LOGGED_IN = 7
EXIT_STORAGE = 8
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit codes:
  0    success
  1    other error
  2    usage (bad arguments, invalid URL)
  3    network (cannot connect, timeout, response too large)
  4    the server's metadata or responses are invalid
  5    authorization failed (denied, timed out, token or registration refused)
  6    a security check failed (issuer, iss, resource, state, insecure URL, refused address)
  7    not logged in (token, status)
  8    the credential file failed (permissions, locked, corrupt)
  130  interrupted (Ctrl-C)
"""

ENVIRONMENT_HELP = """\
environment:
  MCP_AUTH_HOME           directory of the default credential file (credentials.json)
  XDG_CONFIG_HOME         else $XDG_CONFIG_HOME/mcp-auth/credentials.json
  MCP_AUTH_CLIENT_SECRET  the secret of a pre-registered client (login --client-id)
  BROWSER                 the browser `login` opens (else xdg-open / the system default)
"""


def exit_code(e: BaseException) -> int:
    """The exit code for an error (see EXIT_CODES_HELP)."""
    if isinstance(e, (E.TransportError,)):
        return EXIT_NETWORK
    if isinstance(
        e, (E.SecurityCheckError, E.InsecureUrlError, E.AddressRefusedError, E.ForeignOriginError)
    ):
        return EXIT_SECURITY
    if isinstance(e, (E.DiscoveryError, E.InvalidResponseError)):
        return EXIT_SERVER
    if isinstance(e, E.StorageError):
        return EXIT_STORAGE
    if isinstance(e, E.InvalidArgumentError):
        return EXIT_USAGE
    if isinstance(e, E.OAuthFlowError):
        return EXIT_AUTH
    return EXIT_ERROR


HINTS: dict[int, str] = {
    EXIT_NETWORK: "check the URL and that the server is reachable",
    EXIT_SERVER: "the server's authorization metadata is missing or invalid; `mcp-auth probe URL` shows each step",
    EXIT_AUTH: "authorization did not complete; `mcp-auth probe URL` shows the discovery chain",
    EXIT_SECURITY: "refusing to continue: a security check failed",
    EXIT_STORAGE: "check the credential file (--store): permissions, contents, another mcp-auth process holding it",
}


# The core names the per-server override that answers an error; these are the CLI's flags.
OVERRIDE_FLAGS: dict[str, str] = {
    "overrides.resource": "--no-resource / --resource URI",
    "overrides.authorization_params": "--auth-param NAME=VALUE",
    "overrides.drop_scopes": "--drop-scope SCOPE",
    "overrides.prompt": "--prompt VALUE",
    "overrides.trusted_issuers": "--trust-issuer ISSUER=METADATA_URL",
    "overrides.tenant_issuer": "--tenant-issuer",
    "overrides.authorization_server": "--authorization-server URL",
    "provider \"": "--provider NAME",
}


class UsageError(Exception):
    """Arguments that parse but do not fit together (exit code 2)."""


class LoginTimeout(Exception):
    """No redirect came back (neither on the loopback listener nor pasted) in time."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"no authorization came back within {seconds:g} s. If the authorization server "
            "showed an error page, fix what it says (about the redirect URI: it compares them exactly, "
            "so set the redirect host, port and path to the registered ones with --redirect-host, "
            "--port, --redirect-path); "
            "otherwise run `mcp-auth login` again (--wait SECONDS to wait longer)"
        )


def _err(msg: str) -> None:
    print(f"mcp-auth: {msg}", file=sys.stderr)


def _run(fn: Callable[[], T]) -> T:
    """Run a blocking call in a worker thread so that Ctrl-C interrupts the wait at once (the
    core runs with the GIL released, where signals are not seen)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the main thread
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    while t.is_alive():
        t.join(0.1)
    if "error" in box:
        raise box["error"]
    return box["value"]


def _client(args: argparse.Namespace, **kw: Any) -> Client:
    opts: dict[str, Any] = {}
    if args.timeout is not None:
        opts["timeout"] = args.timeout
    if args.allow_http:
        opts["allow_insecure_server_url"] = True
    if getattr(args, "allow_address", None):
        opts["allowed_addresses"] = list(args.allow_address)
    if getattr(args, "ca_file", None):
        opts["tls"] = {"ca_file": args.ca_file}
    if getattr(args, "proxy", None):
        opts["proxy"] = args.proxy
    if getattr(args, "client_id", None):
        opts["client_id"] = args.client_id
        # A secret only means something with the client id it belongs to.
        if getattr(args, "client_secret", None):
            opts["client_secret"] = args.client_secret
    if getattr(args, "scope", None):
        opts["scope"] = args.scope
    if getattr(args, "client_name", None):
        opts["client_name"] = args.client_name
    if getattr(args, "client_metadata", None):
        opts["client_metadata"] = _client_metadata(args.client_metadata)
    if args.provider:
        opts["provider"] = args.provider
    overrides = _overrides(args)
    if overrides:
        opts["overrides"] = overrides
    if getattr(args, "device", False):
        opts["grant"] = "device_code"
        opts["redirect"] = {"type": "device", "open_browser": not getattr(args, "no_browser", False)}
    opts.update(kw)
    url = _redis_url(args)
    storage: Any = {"type": "redis", "url": url} if url else _store_path(args)
    return Client(args.url, storage=storage, **opts)


def _client_metadata(value: str) -> dict[str, Any]:
    """--client-metadata: a JSON object, or @FILE holding one."""
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).expanduser().read_text()
        except OSError as e:
            raise UsageError(f"--client-metadata: cannot read {value[1:]}: {e}") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise UsageError(f"--client-metadata: not JSON ({e})") from None
    if not isinstance(doc, dict):
        raise UsageError("--client-metadata: a JSON object is expected (RFC 7591 client metadata)")
    return doc


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values or []:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} takes NAME=VALUE, not {v!r}")
        out[key] = value
    return out


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The per-server overrides (docs/providers.md) the flags name."""
    o: dict[str, Any] = {}
    if args.no_resource:
        o["resource"] = False
    elif args.resource:
        o["resource"] = args.resource
    if args.auth_param:
        o["authorization_params"] = _pairs(args.auth_param, "--auth-param")
    if args.token_param:
        o["token_params"] = _pairs(args.token_param, "--token-param")
    if args.prompt:
        o["prompt"] = args.prompt
    if args.scope_override:
        o["scope"] = args.scope_override
    if args.drop_scope:
        o["drop_scopes"] = list(args.drop_scope)
    if args.authorization_server:
        o["authorization_server"] = args.authorization_server
    if args.trust_issuer:
        o["trusted_issuers"] = [
            {"issuer": k, "metadata_url": v} for k, v in _pairs(args.trust_issuer, "--trust-issuer").items()
        ]
    if args.tenant_issuer:
        o["tenant_issuer"] = True
    return o


def _redis_url(args: argparse.Namespace) -> str | None:
    """--store redis://… (a Redis store shared by a fleet, docs/fleet.md), else None."""
    store = getattr(args, "store", None)
    if store and store.startswith(("redis://", "rediss://", "redis+unix://")):
        return str(store)
    return None


def _store_label(args: argparse.Namespace) -> str:
    """Where tokens are kept, for messages (a Redis URL without its password)."""
    url = _redis_url(args)
    if url is None:
        return _store_path(args)
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def _store_path(args: argparse.Namespace) -> str:
    """The credential file: --store (with `~` expanded), else the library's default."""
    if _redis_url(args):
        raise UsageError(
            f"`mcp-auth {args.command}` with these options reads the credential file itself; "
            "it does not support a Redis store (--store redis://…)"
        )
    if args.store:
        return os.path.expanduser(args.store)
    default = FileStorage.default_path()
    if default is None:
        raise UsageError("no credential file: set MCP_AUTH_HOME or HOME, or give --store PATH")
    return os.fspath(default)


def _print_event(e: TraceEvent) -> None:
    status = f" {e.status}" if e.status is not None else ""
    target = f" {e.method} {e.url}" if e.url else ""
    mark = {"ok": "ok", "fallback": "--", "failed": "FAILED"}.get(e.outcome, e.outcome)
    print(f"  [{mark:>6}] {e.step}{target}{status}  ({e.duration * 1000:.1f} ms)")
    if e.detail:
        print(f"           {e.detail}")


def cmd_probe(args: argparse.Namespace) -> int:
    events: list[TraceEvent] = []
    shown = {"probe": False}

    def observer(e: TraceEvent) -> None:
        if args.json:
            events.append(e)
        elif e.step != "probe" or not shown["probe"]:
            _print_event(e)

    client = _client(args, observer=observer)
    if not args.json:
        print(f"Probing {args.url}")
    probe = _run(client.probe)
    shown["probe"] = True
    if not args.json:
        c = probe.challenge
        if c is None:
            print(f"\nThe server answered {probe.status} without a challenge: no authorization required.")
        else:
            print(f"\nChallenge ({c.status}):")
            for v in c.www_authenticate:
                print(f"  WWW-Authenticate: {v}")
            for ch in c.challenges:
                params = ", ".join(f"{k}={v!r}" for k, v in ch.params)
                print(f"  scheme {ch.scheme}{' ' + params if params else ''}")
            print("\nDiscovery:")
    discovery = _run(client.discover)
    if args.json:
        print(
            json.dumps(
                {
                    "probe": probe.to_dict(),
                    "discovery": discovery.to_dict(),
                    "steps": [e.to_dict() for e in events],
                },
                indent=2,
            )
        )
        return EXIT_OK
    d = discovery
    print("\nResult:")
    rows: list[tuple[str, str | None]] = [
        ("protected resource metadata", d.protected_resource_url or "(none: 2025-03-26 legacy path)"),
        ("resource", d.protected_resource.resource if d.protected_resource else None),
        ("authorization server", d.authorization_server or "(the server origin)"),
        ("authorization server metadata", d.metadata_url or "(none: default endpoints)"),
        ("issuer", d.issuer),
        ("authorization endpoint", d.authorization_endpoint),
        ("token endpoint", d.token_endpoint),
        ("registration endpoint", d.registration_endpoint or "(none)"),
        ("scopes supported", " ".join((d.metadata and d.metadata.scopes_supported) or []) or None),
        ("resource parameter", d.resource),
    ]
    for label, value in rows:
        if value is not None:
            print(f"  {label + ':':31} {value}")
    return EXIT_OK


class PasteBack:
    """The redirect handler of `login --no-browser`: prints the authorization URL, then takes
    the redirect from whichever comes first: a browser on this machine reaching the loopback
    listener, or the user pasting the URL the browser was redirected to (over SSH the listener
    is on the remote machine; the browser shows an error page whose address is that URL).
    The core then checks `state` and `iss` as for any redirect."""

    def __init__(
        self, port: int, wait: float, stdin: Any = None, host: str = "127.0.0.1", path: str = "/callback"
    ) -> None:
        results: queue.Queue[str] = queue.Queue()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                got, _, query = self.path.partition("?")
                if got != path:
                    self.send_error(404)
                    return
                body = (
                    b"<!doctype html><meta charset=utf-8><title>mcp-auth</title>"
                    b"<p>Authorization complete. You may close this window.</p>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)
                results.put(query)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the query carries the code: never log it

        self._results = results
        self._server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self.redirect_uri = f"http://{host}:{self._server.server_port}{path}"
        self._wait = wait
        self._stdin = stdin if stdin is not None else sys.stdin
        self._reading = False

    def _read_pasted(self) -> None:
        for line in self._stdin:
            text = line.strip()
            if not text:
                continue
            query = urlsplit(text).query if "://" in text else text.lstrip("?")
            fields = parse_qs(query)
            if "code" in fields or "error" in fields:
                self._results.put(query)
                return
            print(
                f"That is not the redirect URL (it starts with {self.redirect_uri}?code=…); "
                "paste the whole address from the browser's address bar:",
                file=sys.stderr,
                flush=True,
            )

    def __call__(self, authorization_url: str) -> str:
        print(
            f"Open this URL in a browser to authorize:\n\n  {authorization_url}\n\n"
            "After approving, paste the URL your browser was redirected to (it starts with "
            f"{self.redirect_uri}; the page may fail to load on another machine) and press "
            "Enter.\nwaiting for the browser… (Ctrl-C to cancel)",
            file=sys.stderr,
            flush=True,
        )
        server = threading.Thread(target=self._server.serve_forever, daemon=True)
        server.start()
        if not self._reading:
            self._reading = True
            threading.Thread(target=self._read_pasted, daemon=True).start()
        try:
            return self._results.get(timeout=self._wait)
        except queue.Empty:
            raise LoginTimeout(self._wait) from None
        finally:
            self._server.shutdown()

    def close(self) -> None:
        self._server.server_close()


def _remember_client(args: argparse.Namespace, client: Client) -> str:
    """Store a pre-registered client as the registration for the server's issuer (where the
    core keeps dynamically registered ones), so that `token` and `status` find it without
    --client-id. Returns the issuer."""
    issuer = _run(client.discover).issuer
    info: dict[str, Any] = {
        "client_id": args.client_id,
        "issuer": issuer,
        "redirect_uris": [client.redirect_uri],
        "token_endpoint_auth_method": "client_secret_basic" if args.client_secret else "none",
    }
    if args.client_secret:
        info["client_secret"] = args.client_secret
    FileStorage(_store_path(args)).set_client_info(issuer, OAuthClientInformationFull(info))
    return issuer


def _show_authorization_url(url: str, browser_opened: bool) -> None:
    """The library never prints: the CLI shows the authorization URL itself."""
    if browser_opened:
        print(f"If the browser did not open, open this URL to authorize:\n  {url}", file=sys.stderr, flush=True)
    else:
        print(
            f"Could not start a browser; open this URL to authorize:\n  {url}",
            file=sys.stderr,
            flush=True,
        )


def _show_device_code(info: dict[str, Any]) -> None:
    """The CLI shows the device code itself (the library never prints)."""
    print(
        f"To authorize, open {info['verification_uri']} and enter the code {info['user_code']}",
        file=sys.stderr,
        flush=True,
    )


def cmd_login(args: argparse.Namespace) -> int:
    paste: PasteBack | None = None
    if args.device:
        client = _client(args, on_device_code=_show_device_code)
        print("Authorizing with a device code (RFC 8628)… (Ctrl-C to cancel)", file=sys.stderr, flush=True)
    elif args.no_browser:
        try:
            paste = PasteBack(args.port, args.wait, host=args.redirect_host or "127.0.0.1", path=args.redirect_path or "/callback")
        except OSError as e:
            raise UsageError(f"cannot listen on 127.0.0.1:{args.port} for the redirect ({e}): choose another --port") from None
        client = _client(args, redirect_handler=paste, redirect_uri=paste.redirect_uri)
    else:
        redirect: dict[str, Any] = {
            "type": "loopback",
            "port": args.port,
            "open_browser": True,
            "timeout_secs": args.wait,
        }
        if args.redirect_host:
            redirect["host"] = args.redirect_host
        if args.redirect_path:
            redirect["path"] = args.redirect_path
        client = _client(args, redirect=redirect, on_authorization_url=_show_authorization_url)
        print(
            f"Opening a browser to authorize; waiting for the browser… (Ctrl-C to cancel; "
            f"gives up after {args.wait} s)",
            file=sys.stderr,
            flush=True,
        )
    try:
        _run(client.logout)
        _run(client.access_token)
    except E.AuthorizationError as e:
        if isinstance(e.__cause__, LoginTimeout):
            raise e.__cause__ from None
        if "No authorization redirect arrived" in str(e):
            raise LoginTimeout(args.wait) from None
        raise
    finally:
        if paste is not None:
            paste.close()
    if args.client_id:
        _remember_client(args, client)
    scope = client.granted_scope()
    print(f"Logged in to {args.url}" + (f" (scope: {scope})" if scope else "") + ".")
    print(f"Tokens saved to {_store_label(args)}.")
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    client = _client(args)
    token = _run(client.current_token)
    if token is None:
        _err(f"not logged in to {args.url}: run `mcp-auth login {args.url}`")
        return EXIT_NOT_LOGGED_IN
    if not args.json:
        print(token)
        return EXIT_OK
    doc: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_at": None, "scope": None}
    stored = FileStorage(_store_path(args)).get_tokens(client.resource_key)
    if stored is not None and stored.access_token == token:
        doc.update(token_type=stored.token_type, expires_at=stored.expires_at, scope=stored.scope)
    print(json.dumps(doc, indent=2))
    return EXIT_OK


def _when(epoch: int | None) -> str:
    if epoch is None:
        return "no expiry given"
    left = epoch - int(time.time())
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))
    if left <= 0:
        return f"expired {stamp}"
    span = f"{left // 3600} h {left % 3600 // 60} min" if left >= 3600 else f"{left // 60} min {left % 60} s"
    return f"expires {stamp} (in {span})"


def cmd_status(args: argparse.Namespace) -> int:
    """What is stored for the server (like `gh auth status`); never prints a secret."""
    client = _client(args)
    path = _store_path(args)
    store = FileStorage(path)
    tokens = store.get_tokens(client.resource_key)
    issuer: str | None = None
    problem: str | None = None
    try:
        issuer = _run(client.discover).issuer
    except E.McpAuthError as e:
        problem = f"unknown (discovery failed: {type(e).__name__}: {e})"
    info = store.get_client_info(issuer) if issuer else None
    now = int(time.time())
    logged_in = tokens is not None and (
        tokens.expires_at is None or tokens.expires_at > now or tokens.refresh_token is not None
    )
    doc: dict[str, Any] = {
        "server": args.url,
        "resource": client.resource_key,
        "credential_file": path,
        "issuer": issuer,
        "client_id": info.client_id if info else None,
        "client_secret_stored": bool(info and info.client_secret),
        "logged_in": logged_in,
        "token": None
        if tokens is None
        else {
            "token_type": tokens.token_type,
            "expires_at": tokens.expires_at,
            "expired": tokens.expires_at is not None and tokens.expires_at <= now,
            "scope": tokens.scope,
            "refresh_token": tokens.refresh_token is not None,
        },
    }
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        rows = [
            ("server", args.url),
            ("resource", client.resource_key),
            ("credential file", path),
            ("issuer", issuer or problem),
            (
                "client id",
                (info.client_id + (" (secret stored)" if info.client_secret else "")) if info else "(none stored)",
            ),
        ]
        if tokens is None:
            rows.append(("token", f"none: not logged in (run `mcp-auth login {args.url}`)"))
        else:
            rows += [
                ("token", f"{tokens.token_type}, {_when(tokens.expires_at)}"),
                ("scope", tokens.scope or "(none given)"),
                ("refresh token", "present" if tokens.refresh_token else "absent"),
            ]
        for label, value in rows:
            print(f"  {label + ':':17} {value}")
        if tokens is not None and not logged_in:
            print(f"  the token expired and cannot be refreshed: run `mcp-auth login {args.url}`")
    return EXIT_OK if logged_in else EXIT_NOT_LOGGED_IN


def cmd_logout(args: argparse.Namespace) -> int:
    client = _client(args)
    revocation = _run(client.logout)
    print(f"Logged out of {args.url}.")
    if revocation.status == "revoked":
        print("The authorization server revoked the tokens.")
    elif revocation.status == "unsupported":
        print("The authorization server offers no revocation: the tokens stay valid there until they expire.")
    elif revocation.status == "failed":
        print(
            f"The authorization server did not confirm the revocation ({revocation.reason}); "
            "the tokens are forgotten here and stay valid there until they expire.",
            file=sys.stderr,
        )
    if args.forget_client:
        issuer = _run(client.forget_client)
        print(f"Forgot the client registration for {issuer}.")
    return EXIT_OK


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the hand-made layout of descriptions and epilogs (examples, exit codes)."""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-auth",
        description=(__doc__ or "").strip(),
        epilog=EXIT_CODES_HELP + "\n" + ENVIRONMENT_HELP,
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"mcp-auth {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("url", help="the MCP server URL, e.g. https://mcp.example.com/mcp")
    common.add_argument(
        "--store",
        metavar="PATH|URL",
        help="credential file (default: $MCP_AUTH_HOME/credentials.json, else "
        "$XDG_CONFIG_HOME/mcp-auth/credentials.json, else ~/.config/mcp-auth/credentials.json), "
        "or a Redis server shared by several machines: redis://[user:password@]host[:port][/db]",
    )
    common.add_argument("--timeout", type=float, metavar="SECONDS", help="HTTP timeout (default: 30)")
    common.add_argument(
        "--allow-http",
        action="store_true",
        help="allow an http:// MCP server URL that is not loopback (OAuth endpoints stay https)",
    )
    common.add_argument(
        "--allow-address",
        action="append",
        metavar="HOST_OR_CIDR",
        help=(
            "let server-supplied URLs (metadata, OAuth endpoints) reach this host name, *.domain, "
            "address or CIDR block although it is loopback, link-local or private (repeatable)"
        ),
    )
    common.add_argument(
        "--ca-file",
        metavar="PATH",
        help="a PEM bundle of CA certificates to trust besides the system store (a private or "
        "corporate CA; SSL_CERT_FILE and SSL_CERT_DIR are honoured too)",
    )
    common.add_argument(
        "--proxy",
        metavar="URL",
        help="HTTP(S) proxy, e.g. http://proxy.example:3128 (default: HTTPS_PROXY/HTTP_PROXY, "
        "honouring NO_PROXY; loopback hosts never use a proxy)",
    )
    prov = common.add_argument_group("provider compatibility (docs/providers.md)")
    prov.add_argument(
        "--provider",
        metavar="NAME",
        help="provider profile: auto (default: from the authorization server's host), none, entra, "
        "auth0, google, github, slack, cognito",
    )
    prov.add_argument("--no-resource", action="store_true", help="never send the RFC 8707 resource parameter")
    prov.add_argument("--resource", metavar="URI", help="send this resource parameter instead")
    prov.add_argument(
        "--auth-param", action="append", metavar="NAME=VALUE", help="extra authorization request parameter ({resource} is replaced)"
    )
    prov.add_argument("--token-param", action="append", metavar="NAME=VALUE", help="extra token request parameter")
    prov.add_argument("--prompt", metavar="VALUE", help="OIDC prompt: auto (default), omit, or the value to send")
    prov.add_argument("--scope-override", metavar="SCOPE", help="request this scope instead of the selected one")
    prov.add_argument("--drop-scope", action="append", metavar="SCOPE", help="never request this scope token")
    prov.add_argument(
        "--authorization-server", metavar="URL", help="the issuer or its metadata URL, for a server without RFC 9728 metadata"
    )
    prov.add_argument(
        "--trust-issuer",
        action="append",
        metavar="ISSUER=METADATA_URL",
        help="accept exactly this issuer mismatch: ISSUER named by the metadata at METADATA_URL",
    )
    prov.add_argument(
        "--tenant-issuer", action="store_true", help="accept a {tenantid} issuer template, checked against the token's tenant"
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str, examples: str) -> argparse.ArgumentParser:  # noqa: A002
        return sub.add_parser(
            name,
            parents=[common],
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog="examples:\n" + examples + "\n" + EXIT_CODES_HELP,
            formatter_class=HelpFormatter,
        )

    probe = command(
        "probe",
        "show the challenge and the discovery chain",
        "  mcp-auth probe https://mcp.example.com/mcp\n"
        "  mcp-auth probe --json https://mcp.example.com/mcp | jq .discovery.issuer\n",
    )
    probe.add_argument("--json", action="store_true", help="print one JSON document")
    probe.set_defaults(func=cmd_probe)
    login = command(
        "login",
        "authorize in a browser and save the tokens",
        "  mcp-auth login https://mcp.example.com/mcp\n"
        "  mcp-auth login --no-browser https://mcp.example.com/mcp      # over SSH: paste the redirect back\n"
        "  mcp-auth login --device --no-browser https://mcp.example.com/mcp   # a device code instead\n"
        "  mcp-auth login --provider entra https://mcp.example.com/mcp\n"
        "  MCP_AUTH_CLIENT_SECRET=s3cret mcp-auth login --client-id my-app https://mcp.example.com/mcp\n",
    )
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="do not open a browser: print the URL, then take the redirect from this machine's "
        "browser or pasted on stdin (SSH)",
    )
    login.add_argument("--port", type=int, default=0, help="loopback redirect port (default: 0, any free port)")
    login.add_argument("--redirect-host", choices=["127.0.0.1", "localhost"], help="loopback redirect host (default: 127.0.0.1)")
    login.add_argument("--redirect-path", metavar="PATH", help="loopback redirect path (default: /callback)")
    login.add_argument(
        "--device",
        action="store_true",
        help="the device authorization grant (RFC 8628): authorize on another device with a code "
        "(with --no-browser, no browser is opened here)",
    )
    login.add_argument(
        "--wait", type=int, default=300, metavar="SECONDS", help="how long to wait for the redirect (default: 300)"
    )
    login.add_argument("--scope", help="scope to request when the server names none")
    login.add_argument(
        "--client-id", help="a pre-registered client id (remembered for the server's issuer in the credential file)"
    )
    login.add_argument(
        "--client-secret", help="its secret (default: $MCP_AUTH_CLIENT_SECRET; prefer the variable)"
    )
    login.add_argument("--client-name", help="client_name for dynamic registration (default: mcp-auth)")
    login.add_argument(
        "--client-metadata",
        metavar="JSON|@FILE",
        help="RFC 7591 client metadata for dynamic registration, a JSON object (or @file holding "
        "one): token_endpoint_auth_method, scope, grant_types, client_uri, logo_uri, contacts, "
        "software_id, ...; its members win over the defaults",
    )
    login.set_defaults(func=cmd_login)
    status = command(
        "status",
        "show what is stored for a server: token, expiry, scope, client (never a secret)",
        "  mcp-auth status https://mcp.example.com/mcp\n"
        "  mcp-auth status --json https://mcp.example.com/mcp\n",
    )
    status.add_argument("--json", action="store_true", help="print one JSON document")
    status.set_defaults(func=cmd_status)
    token = command(
        "token",
        "print a valid access token (refreshed if needed; never starts a login)",
        '  curl -H "Authorization: Bearer $(mcp-auth token https://mcp.example.com/mcp)" ...\n'
        "  mcp-auth token --json https://mcp.example.com/mcp\n",
    )
    token.add_argument(
        "--json", action="store_true", help="print access_token, token_type, expires_at (Unix time) and scope as JSON"
    )
    token.set_defaults(func=cmd_token)
    logout = command(
        "logout",
        "revoke the tokens of a server (RFC 7009) and forget them",
        "  mcp-auth logout https://mcp.example.com/mcp\n"
        "  mcp-auth logout --forget-client https://mcp.example.com/mcp   # register anew next time\n",
    )
    logout.add_argument(
        "--forget-client",
        action="store_true",
        help="also forget the client registration stored for the server's authorization server",
    )
    logout.set_defaults(func=cmd_logout)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "client_secret", None) is not None and not getattr(args, "client_id", None):
        _err("--client-secret needs --client-id")
        return EXIT_USAGE
    if getattr(args, "client_id", None) and args.client_secret is None:
        # Only with a client id: a secret set in the environment does not get in the way of
        # commands that do not take one.
        args.client_secret = os.environ.get("MCP_AUTH_CLIENT_SECRET") or None
    try:
        code = int(args.func(args))
    except KeyboardInterrupt:
        _err("interrupted")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    except UsageError as e:
        code = EXIT_USAGE
        _err(str(e))
    except LoginTimeout as e:
        code = EXIT_AUTH
        _err(str(e))
    except E.McpAuthError as e:
        code = exit_code(e)
        _err(f"{type(e).__name__}: {e}")
        if e.__cause__ is not None:
            _err(f"  caused by {type(e.__cause__).__name__}: {e.__cause__}")
        flags = [flag for name, flag in OVERRIDE_FLAGS.items() if name in str(e)]
        if flags:
            _err(f"on the command line: {', '.join(flags)}")
        if code in HINTS:
            _err(HINTS[code])
    except BrokenPipeError:
        code = EXIT_ERROR
    sys.stdout.flush()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
