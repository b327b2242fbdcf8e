#!/usr/bin/env python3
"""The interop suite: mcp-auth against real third-party servers on loopback (`make interop`).

Servers (pinned in interop/package.json and interop/requirements.txt, installed by
mk/interop.mk): node `oidc-provider` as the authorization server (oidc/server.mjs) in front of
the official MCP Python SDK as the resource server (rs/server.py). Each cell (scenario x
surface) gets fresh servers, runs the surface's client, then checks what the SERVERS saw: the
provider's events (registrations, grants by type, refresh-token rotation) and the resource
server's log (tokens accepted, tool calls). A client's own word counts for nothing.

    python3 interop/run.py [--surfaces rust,...] [--scenarios a,b] [--doc docs/interop.md]

Prints the table and a last line `interop: N passed, M failed`; exits 1 on any failure, on an
unexpected pass of a known failure, or when a server fails to start or dies during a cell.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = Path(os.environ.get("INTEROP_TARGET", ROOT / "target" / "interop"))
VENV_PY = TARGET / "venv" / "bin" / "python"
CLI = Path(os.environ.get("INTEROP_CLI", ROOT / "bindings" / "python" / ".venv" / "bin" / "mcp-auth"))
TS_EXAMPLE = HERE / "node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js"
RUST_CLIENT = Path(os.environ.get("INTEROP_RUST_CLIENT", ROOT / "target" / "debug" / "mcp-auth-interop-client"))
TOKEN_TTL = 3  # oidc/server.mjs: access tokens live 3 s
PAUSE = TOKEN_TTL + 1.5  # between two calls: the token has expired
CELL_DEADLINE = 120  # generous: a loaded 2-core machine


class ServerFailed(Exception):
    """A third-party server did not start or died: the suite fails, never skips."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    argv: list[str]
    port: int
    out: Path
    env: dict[str, str] = field(default_factory=dict)
    also_ports: list[int] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, **self.env)
        self.proc = subprocess.Popen(self.argv, stdout=self.out.open("ab"), stderr=subprocess.STDOUT, cwd=HERE, env=env)
        deadline = time.monotonic() + 60
        for port in [self.port, *self.also_ports]:
            while True:
                if self.proc.poll() is not None:
                    raise ServerFailed(f"{self.name} exited with {self.proc.returncode} at start:\n{self.out.read_text()}")
                if time.monotonic() > deadline:
                    raise ServerFailed(f"{self.name} did not listen on {port} within 60 s")
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)  # readiness poll, bounded by the deadline

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise ServerFailed(f"{self.name} died during the cell:\n{self.out.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def read_jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@dataclass
class Cell:
    """One run: the servers' records once the client has finished."""

    dir: Path
    resource: str
    issuer: str
    rc: int = 0
    output: str = ""
    as_events: list[dict[str, object]] = field(default_factory=list)
    rs_log: list[dict[str, object]] = field(default_factory=list)
    browser: list[dict[str, object]] = field(default_factory=list)
    http_log: list[dict[str, object]] = field(default_factory=list)  # the TS SDK server's
    restart_as: Callable[[], None] = lambda: None
    tool: dict[str, object] = field(default_factory=lambda: {"name": "whoami", "arguments": {}})

    def exchanges(self, method: str, path: str, status: int | None = None) -> list[dict[str, object]]:
        return [
            r for r in self.http_log
            if r["phase"] == "response" and r["method"] == method and r["path"] == path
            and (status is None or r["status"] == status)
        ]

    def arrivals(self, method: str, path: str) -> list[dict[str, object]]:
        return [r for r in self.http_log if r["phase"] == "request" and r["method"] == method and r["path"] == path]

    def events(self, name: str, **match: object) -> list[dict[str, object]]:
        return [e for e in self.as_events if e["event"] == name and all(e.get(k) == v for k, v in match.items())]

    def grants(self, grant_type: str) -> int:
        return len(self.events("grant.success", grant_type=grant_type))

    def tool_calls(self) -> int:
        return sum(1 for r in self.rs_log if r["event"] == "tool_call")

    def tokens_accepted(self) -> int:
        return len({r["jti"] for r in self.rs_log if r["event"] == "accepted"})

    def logins(self) -> int:
        return sum(1 for b in self.browser if b.get("submit") == "login")


@dataclass
class Scenario:
    name: str
    title: str
    as_flags: list[str]
    calls: int
    options: Callable[[Cell], dict[str, object]]
    check: Callable[[Cell], list[str]]  # what is wrong, from the servers' records
    servers: str = "oidc"  # "oidc": oidc-provider + the Python SDK; "ts": the TS SDK example
    forget: bool = False  # restart the AS between two client runs: it forgets every registration


def expect(problems: list[str], what: str, got: object, want: object) -> None:
    if got != want:
        problems.append(f"{what}: {got}, expected {want}")


def at_least(problems: list[str], what: str, got: int, want: int) -> None:
    if got < want:
        problems.append(f"{what}: {got}, expected at least {want}")


def interactive(cell: Cell) -> dict[str, object]:
    return {
        "server_url": cell.resource,
        "client_name": "mcp-auth interop",
        "refresh_skew_secs": 0,
        "timeout_ms": 20000,
        "redirect": {"type": "loopback", "port": 0, "timeout_secs": 60, "open_browser": True},
    }


def check_code_refresh(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 1)
    expect(p, "logins at the AS", c.logins(), 1)
    expect(p, "authorization_code grants", c.grants("authorization_code"), 1)
    at_least(p, "refresh_token grants", c.grants("refresh_token"), 1)
    at_least(p, "refresh tokens consumed (rotation)", len(c.events("refresh_token.consumed")), 1)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


def check_client_credentials(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 0)
    at_least(p, "client_credentials grants", c.grants("client_credentials"), 3)
    expect(p, "tool calls at the RS", c.tool_calls(), 3)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 3)
    return p


def check_no_refresh(c: Cell) -> list[str]:
    p: list[str] = []
    expect(p, "registrations", len(c.events("registration_create.success")), 1)
    expect(p, "refresh_token grants", c.grants("refresh_token"), 0)
    expect(p, "authorization_code grants (one per token lifetime)", c.grants("authorization_code"), 2)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    at_least(p, "distinct access tokens accepted by the RS", c.tokens_accepted(), 2)
    return p


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


def check_forgotten(c: Cell) -> list[str]:
    p: list[str] = []
    starts = [i for i, e in enumerate(c.as_events) if e["event"] == "listening"]
    if len(starts) != 2:
        return [f"the AS started {len(starts)} times, expected 2"]
    first, second = c.as_events[: starts[1]], c.as_events[starts[1] :]
    expect(p, "registrations before the AS forgot", sum(e["event"] == "registration_create.success" for e in first), 1)
    refused = [e for e in second if "invalid_client" in str(e.get("error", ""))]
    at_least(p, "requests the restarted AS refused with invalid_client", len(refused), 1)
    expect(p, "registrations after the AS forgot (once)", sum(e["event"] == "registration_create.success" for e in second), 1)
    expect(p, "authorization_code grants after the AS forgot", sum(e["event"] == "grant.success" and e.get("grant_type") == "authorization_code" for e in second), 1)
    expect(p, "tool calls at the RS", c.tool_calls(), 2)
    return p


SCENARIOS = [
    Scenario(
        "code-refresh",
        "authorization code (login + consent in the browser), tool call, refresh after expiry",
        [],
        2,
        interactive,
        check_code_refresh,
    ),
    Scenario(
        "client-credentials",
        "client_credentials (pre-registered, client_secret_basic) across two expiries",
        [],
        3,
        lambda c: {
            "server_url": c.resource,
            "grant": "client_credentials",
            "client_id": "interop-cc",
            "client_secret": "interop-cc-secret-0123456789abcdef",
            "refresh_skew_secs": 0,
            "timeout_ms": 20000,
        },
        check_client_credentials,
    ),
    Scenario(
        "no-refresh-token",
        "an AS that issues no refresh token: authorize again after expiry",
        ["--no-refresh"],
        2,
        interactive,
        check_no_refresh,
    ),
    Scenario(
        "forgotten-registration",
        "the AS restarts and forgets the registration: refresh refused (invalid_client), register again once",
        [],
        1,
        lambda c: dict(
            interactive(c),
            storage={"type": "file", "path": str(c.dir / "home" / "credentials.json")},
            redirect={"type": "loopback", "port": 0, "timeout_secs": 20, "open_browser": True},
        ),
        check_forgotten,
        forget=True,
    ),
    Scenario(
        "auth-method",
        "TS SDK example server's demo AS: advertises client_secret_post + none (not the RFC 7591 default)",
        [],
        1,
        interactive,
        check_auth_method,
        servers="ts",
    ),
]

# Cells that fail for a reason we know: (reason, the symptom the failure must show). A known
# failure that fails with another symptom fails the suite; one that passes counts as passed
# and is flagged ("no longer fails: remove it from KNOWN_FAILURES").
KNOWN_FAILURES: dict[tuple[str, str], tuple[str, str]] = {
    ("forgotten-registration", "python-cli"): (
        "a forgotten registration is forgotten per process: `mcp-auth token` learns that the AS "
        "no longer knows the client, but the next `mcp-auth login` reads the registration from the "
        "credential file again (the storage interface cannot remove a registration yet), and the "
        "AS shows the browser an error page instead of redirecting",
        "no authorization came back",
    ),
}


class NotApplicable(Exception):
    """The surface has no way to run the scenario (the reason goes into the table)."""


def run_rust(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The core crate, through interop/client-rs (options JSON, initialize, N tool calls)."""
    argv = [str(RUST_CLIENT), json.dumps(scenario.options(cell)), str(scenario.calls), str(PAUSE), json.dumps(cell.tool)]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CELL_DEADLINE)
    if not scenario.forget or r.returncode != 0:
        return r.returncode, r.stdout + r.stderr
    # A second host process on the same credential file, after the AS forgot everything and
    # the token expired: the stored refresh token and registration are both unknown now.
    cell.restart_as()
    time.sleep(PAUSE)  # let the stored token expire
    r2 = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CELL_DEADLINE)
    return r2.returncode, r.stdout + r.stderr + "--- after the AS restarted ---\n" + r2.stdout + r2.stderr


def mcp_call(resource: str, token: str, tool: dict[str, object]) -> str:
    """What a host does with the CLI's token: initialize, then tools/call whoami."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Authorization": f"Bearer {token}",
        "MCP-Protocol-Version": "2025-11-25",
    }

    def post(body: dict[str, object], session: str | None) -> tuple[str | None, str]:
        h = dict(headers, **({"Mcp-Session-Id": session} if session else {}))
        req = urllib.request.Request(resource, json.dumps(body).encode(), h)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers.get("mcp-session-id"), r.read().decode()

    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cli-host", "version": "0"}}
    session, _ = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}, None)
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    _, result = post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": tool}, session)
    return result


def run_cli(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The Python package's CLI as a shell host uses it: `mcp-auth login` once (the browser),
    then `mcp-auth token` before each call (refreshing when needed); when `token` says "not
    logged in" (exit 7: nothing left to refresh with), `mcp-auth login` again."""
    if scenario.name == "client-credentials":
        raise NotApplicable("the CLI's login is the interactive authorization code flow")
    env = dict(env, MCP_AUTH_HOME=str(cell.dir / "home"))
    out: list[str] = []

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([str(CLI), *args, cell.resource], env=env, capture_output=True, text=True, timeout=CELL_DEADLINE)
        out.append(f"$ mcp-auth {' '.join(args)} -> {r.returncode}\n{r.stderr}")
        return r

    wait = "20" if scenario.forget else "60"
    if (r := cli("login", "--wait", "60")).returncode != 0:
        return r.returncode, "\n".join(out)
    if scenario.forget:
        if (r := cli("token")).returncode != 0:
            return r.returncode, "\n".join(out)
        out.append(mcp_call(cell.resource, r.stdout.strip(), cell.tool))
        cell.restart_as()
        time.sleep(PAUSE)  # let the stored token expire
    for i in range(scenario.calls):
        if i:
            time.sleep(PAUSE)  # let the token expire
        r = cli("token")
        if r.returncode in (5, 7):  # `mcp-auth token || mcp-auth login`
            if (r := cli("login", "--wait", wait)).returncode != 0:
                return r.returncode, "\n".join(out)
            r = cli("token")
        if r.returncode != 0:
            return r.returncode, "\n".join(out)
        try:
            out.append(mcp_call(cell.resource, r.stdout.strip(), cell.tool))
        except OSError as e:
            out.append(f"tool call failed: {e}")
            return 1, "\n".join(out)
    return 0, "\n".join(out)


SURFACES: dict[str, Callable[[Cell, Scenario, dict[str, str]], tuple[int, str]]] = {
    "rust": run_rust,
    "python-cli": run_cli,
}


def run_cell(scenario: Scenario, surface: str, base: Path) -> tuple[bool, str]:
    d = base / f"{scenario.name}.{surface}"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    as_port, rs_port = free_port(), free_port()
    if scenario.servers == "ts":
        # The example builds its URLs on `localhost`.
        cell = Cell(d, f"http://localhost:{rs_port}/mcp", f"http://localhost:{as_port}/")
        cell.tool = {"name": "greet", "arguments": {"name": "interop"}}
        servers = [
            Server(
                "TypeScript SDK example server (--oauth)",
                ["node", "--import", "./ts/log-requests.mjs", str(TS_EXAMPLE), "--oauth"],
                rs_port,
                d / "ts.out",
                env={"MCP_PORT": str(rs_port), "MCP_AUTH_PORT": str(as_port), "INTEROP_HTTP_LOG": str(d / "http.jsonl")},
                also_ports=[as_port],
            )
        ]
    else:
        cell = Cell(d, f"http://127.0.0.1:{rs_port}/mcp", f"http://127.0.0.1:{as_port}")
        servers = [
            Server("oidc-provider", ["node", "oidc/server.mjs", str(as_port), cell.resource, str(d / "as.jsonl"), *scenario.as_flags], as_port, d / "as.out"),
            Server("mcp (Python SDK) resource server", [str(VENV_PY), "rs/server.py", str(rs_port), cell.issuer, str(d / "rs.jsonl")], rs_port, d / "rs.out"),
        ]
    def restart_as() -> None:
        servers[0].stop()
        servers[0].start()

    cell.restart_as = restart_as
    try:
        for s in servers:
            s.start()
        env = dict(os.environ)
        env["BROWSER"] = str(HERE / "browser.py")
        env["INTEROP_BROWSER_LOG"] = str(d / "browser.jsonl")
        try:
            cell.rc, cell.output = SURFACES[surface](cell, scenario, env)
        except subprocess.TimeoutExpired as e:
            cell.rc, cell.output = -1, f"timed out after {CELL_DEADLINE} s: {e}"
        (d / "client.out").write_text(cell.output)
        for s in servers:
            s.check_alive()
    finally:
        for s in servers:
            s.stop()
    cell.as_events, cell.rs_log, cell.browser = read_jsonl(d / "as.jsonl"), read_jsonl(d / "rs.jsonl"), read_jsonl(d / "browser.jsonl")
    cell.http_log = read_jsonl(d / "http.jsonl")
    problems = scenario.check(cell)
    if cell.rc != 0:
        last = [line for line in cell.output.splitlines() if not line.startswith("trace:")][-1:]
        problems.insert(0, f"client exited {cell.rc}: {' '.join(last)}")
    return (not problems, "; ".join(problems))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--surfaces", default=",".join(SURFACES))
    ap.add_argument("--scenarios", default=",".join(s.name for s in SCENARIOS))
    ap.add_argument("--doc", help="write the table into this Markdown file between the interop markers")
    args = ap.parse_args()
    surfaces = args.surfaces.split(",")
    chosen = [s for s in SCENARIOS if s.name in args.scenarios.split(",")]
    base = TARGET / "cells"
    started = time.monotonic()
    rows: list[tuple[str, str, str, str]] = []
    passed = failed = known = 0
    for scenario in chosen:
        for surface in surfaces:
            t0 = time.monotonic()
            try:
                ok, why = run_cell(scenario, surface, base)
            except ServerFailed as e:
                ok, why = False, f"server failure: {e}"
            except NotApplicable as e:
                rows.append((scenario.name, surface, "n/a", str(e)))
                print(f"{scenario.name:<22} {surface:<10} n/a            {e}", flush=True)
                continue
            known_as = KNOWN_FAILURES.get((scenario.name, surface))
            if ok:
                status, passed = "pass", passed + 1
                if known_as is not None:
                    why = f"no longer fails: remove it from KNOWN_FAILURES ({known_as[0]})"
            elif known_as is not None and known_as[1] in why:
                status, known, why = "known failure", known + 1, f"{known_as[0]}: {why}"
            else:
                status, failed = "FAIL", failed + 1
            rows.append((scenario.name, surface, status, why))
            print(f"{scenario.name:<22} {surface:<10} {status:<14} {time.monotonic() - t0:5.1f} s  {why}", flush=True)
    table = ["| scenario | surface | result | server-side evidence / reason |", "|---|---|---|---|"]
    titles = {s.name: s.title for s in SCENARIOS}
    for name, surface, status, why in rows:
        table.append(f"| `{name}`: {titles[name]} | {surface} | {status} | {why or 'as expected'} |")
    print()
    print("\n".join(table))
    if args.doc:
        doc = Path(args.doc)
        text = doc.read_text()
        begin, end = "<!-- interop table: begin -->", "<!-- interop table: end -->"
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        rendered = re.sub(r"(127\.0\.0\.1|localhost):\d+", r"\1:PORT", "\n".join(table))  # stable diffs
        doc.write_text(f"{head}{begin}\n{rendered}\n{end}{tail}")
    print(f"\ninterop wall time: {time.monotonic() - started:.1f} s")
    print(f"interop: {passed} passed, {failed} failed" + (f" ({known} known failures)" if known else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
