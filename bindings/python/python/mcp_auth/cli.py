"""``mcp-auth``: MCP authorization from the command line.

    mcp-auth probe URL     the challenge and the discovery chain, step by step
    mcp-auth login URL     authorize in a browser (loopback redirect); tokens to the file store
    mcp-auth token URL     print a valid access token (refreshed if needed) for curl and scripts
    mcp-auth logout URL    forget the tokens of URL

Exit codes: 0 success; 1 other error; 2 usage; 3 network (transport, timeout, response too
large); 4 the server's metadata or responses are invalid (discovery, invalid response);
5 authorization failed (authorization, token, registration, unauthorized, unsupported);
6 a security check failed (issuer, iss, resource, state, insecure URL); 7 not logged in
(``token``); 8 the credential store failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import _errors as E
from ._client import Client
from ._native import TraceEvent, __version__

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


def exit_code(e: BaseException) -> int:
    """The exit code for an error (see the module docs)."""
    if isinstance(e, (E.TransportError,)):
        return EXIT_NETWORK
    if isinstance(e, (E.SecurityCheckError, E.InsecureUrlError)):
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
    EXIT_STORAGE: "check the credential store (--store) permissions and contents",
}


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
    if getattr(args, "ca_file", None):
        opts["tls"] = {"ca_file": args.ca_file}
    if getattr(args, "proxy", None):
        opts["proxy"] = args.proxy
    if getattr(args, "client_id", None):
        opts["client_id"] = args.client_id
    if getattr(args, "client_secret", None):
        opts["client_secret"] = args.client_secret
    if getattr(args, "scope", None):
        opts["scope"] = args.scope
    if getattr(args, "client_name", None):
        opts["client_name"] = args.client_name
    opts.update(kw)
    return Client(args.url, storage=args.store or "file", **opts)


def _store_path(args: argparse.Namespace) -> str:
    if args.store:
        return args.store
    if os.environ.get("MCP_AUTH_HOME"):
        return os.path.join(os.environ["MCP_AUTH_HOME"], "credentials.json")
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "mcp-auth", "credentials.json")


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


def cmd_login(args: argparse.Namespace) -> int:
    redirect: dict[str, Any] = {
        "type": "loopback",
        "port": args.port,
        "open_browser": not args.no_browser,
        "timeout_secs": args.wait,
    }
    client = _client(args, redirect=redirect)
    _run(client.logout)
    _run(client.access_token)
    scope = client.granted_scope()
    print(f"Logged in to {args.url}" + (f" (scope: {scope})" if scope else "") + ".")
    print(f"Tokens saved to {_store_path(args)}.")
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    client = _client(args)
    token = _run(client.current_token)
    if token is None:
        _err(f"not logged in to {args.url}: run `mcp-auth login {args.url}`")
        return EXIT_NOT_LOGGED_IN
    print(token)
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    client = _client(args)
    _run(client.logout)
    print(f"Logged out of {args.url}.")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mcp-auth",
        description="MCP client authorization (OAuth 2.1) from the command line.",
        epilog=__doc__.split("Exit codes:", 1)[1].join(["Exit codes:", ""]) if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"mcp-auth {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("url", help="the MCP server URL, e.g. https://mcp.example.com/mcp")
    common.add_argument(
        "--store",
        metavar="PATH",
        help="credential file (default: $MCP_AUTH_HOME/credentials.json, else "
        "$XDG_CONFIG_HOME/mcp-auth/credentials.json, else ~/.config/mcp-auth/credentials.json)",
    )
    common.add_argument("--timeout", type=float, metavar="SECONDS", help="HTTP timeout (default 30)")
    common.add_argument(
        "--allow-http",
        action="store_true",
        help="allow an http:// MCP server URL that is not loopback (OAuth endpoints stay https)",
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
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    probe = sub.add_parser("probe", parents=[common], help="show the challenge and the discovery chain")
    probe.add_argument("--json", action="store_true", help="print one JSON document")
    probe.set_defaults(func=cmd_probe)
    login = sub.add_parser("login", parents=[common], help="authorize in a browser; save the tokens")
    login.add_argument("--no-browser", action="store_true", help="only print the URL to open")
    login.add_argument("--port", type=int, default=0, help="loopback redirect port (default: any)")
    login.add_argument("--wait", type=int, default=300, metavar="SECONDS", help="how long to wait for the redirect")
    login.add_argument("--scope", help="scope to request when the server names none")
    login.add_argument("--client-id", help="a pre-registered client id")
    login.add_argument("--client-secret", help="its secret (prefer MCP_AUTH_CLIENT_SECRET)")
    login.add_argument("--client-name", help="client_name for dynamic registration")
    login.set_defaults(func=cmd_login)
    token = sub.add_parser("token", parents=[common], help="print a valid access token")
    token.set_defaults(func=cmd_token)
    logout = sub.add_parser("logout", parents=[common], help="forget the tokens of URL")
    logout.set_defaults(func=cmd_logout)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "client_secret", None) is None and os.environ.get("MCP_AUTH_CLIENT_SECRET"):
        args.client_secret = os.environ["MCP_AUTH_CLIENT_SECRET"]
    try:
        code = int(args.func(args))
    except KeyboardInterrupt:
        _err("interrupted")
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    except E.McpAuthError as e:
        code = exit_code(e)
        _err(f"{type(e).__name__}: {e}")
        if e.__cause__ is not None:
            _err(f"  caused by {type(e.__cause__).__name__}: {e.__cause__}")
        if code in HINTS:
            _err(HINTS[code])
    except BrokenPipeError:
        code = EXIT_ERROR
    sys.stdout.flush()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
