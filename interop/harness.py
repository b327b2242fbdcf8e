"""The interop suite's machinery: servers, cells, and the registries scenarios add themselves to.

A scenario lives in its own file under interop/scenarios/ and registers itself:

    from harness import Scenario, expect, interactive, scenario

    def check(c):            # what is wrong, from the SERVERS' records
        p = []
        expect(p, "registrations", len(c.events("registration_create.success")), 1)
        return p

    scenario(Scenario("my-case", "what it shows", ["--as-flag"], 1, interactive, check))

`known_failure(scenario, surface, reason, symptom)` records a cell that fails for a known
reason; `server_set(name)` registers how a cell's servers start (oidc-provider + the Python SDK
resource server is "oidc"); `surface(name)` registers a client column. run.py imports every
module in interop/scenarios/ and runs the cells.
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TARGET = Path(os.environ.get("INTEROP_TARGET", ROOT / "target" / "interop"))
VENV_PY = TARGET / "venv" / "bin" / "python"
# Access tokens live TOKEN_TTL seconds at every authorization server of the suite (handed to
# them as INTEROP_TOKEN_TTL). A JWT's `exp` is counted from its whole-second `iat`, so a token
# is accepted for TOKEN_TTL - 1 to TOKEN_TTL seconds: long enough for a session's requests on a
# loaded machine, short enough that the cells see tokens expire.
TOKEN_TTL = 5
PAUSE = TOKEN_TTL + 1.5  # between two calls: the token has expired (the scenario)
CELL_DEADLINE = 180  # generous: a loaded 2-core machine


class ServerFailed(Exception):
    """A third-party server did not start or died: the suite fails, never skips."""


class NotApplicable(Exception):
    """The surface has no way to run the scenario (the reason goes into the table)."""


def _ephemeral_low() -> int:
    """The first port the kernel hands out for outgoing connections and `bind(0)`."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


_EPHEMERAL_LOW = _ephemeral_low()
_handed_out: set[int] = set()
_ports_lock = threading.Lock()


def free_port() -> int:
    """A port for a server (or a fixed redirect URI) to bind later: below the kernel's
    ephemeral range, so no outgoing connection of the cells running beside this one can take
    it before its server binds it (a port from `bind(0)` could be), free now, and never handed
    out twice in a run."""
    with _ports_lock:
        for _ in range(10000):
            port = random.randrange(10000, max(10001, _EPHEMERAL_LOW))
            if port in _handed_out:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    raise ServerFailed(f"no free port between 10000 and {_EPHEMERAL_LOW}")


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
        env = dict(os.environ, INTEROP_TOKEN_TTL=str(TOKEN_TTL), **self.env)
        self.proc = subprocess.Popen(self.argv, stdout=self.out.open("ab"), stderr=subprocess.STDOUT, cwd=HERE, env=env)
        deadline = time.monotonic() + 90
        for port in [self.port, *self.also_ports]:
            while True:
                if self.proc.poll() is not None:
                    raise ServerFailed(f"{self.name} exited with {self.proc.returncode} at start:\n{self.out.read_text()}")
                if time.monotonic() > deadline:
                    raise ServerFailed(f"{self.name} did not listen on {port} within 90 s")
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
    extra: dict[str, object] = field(default_factory=dict)  # what a server set hands its scenarios

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
    servers: str = "oidc"  # a key of SERVER_SETS
    forget: bool = False  # restart the AS between two client runs: it forgets every registration
    rs_args: list[str] = field(default_factory=list)  # extra arguments for the resource server
    surfaces: list[str] | None = None  # None: every surface; else only these (others: n/a)
    not_applicable: dict[str, str] = field(default_factory=dict)  # surface -> why it cannot run
    cli_args: list[str] = field(default_factory=list)  # the CLI column's flags (every command)
    cli_login_args: list[str] = field(default_factory=list)  # ... and those of `login` only
    # The client must FAIL, and its output must contain this (the fix the error names); the
    # check still judges what the servers saw (e.g. the request they refused).
    expect_failure: str | None = None


# The registries. Scenario files append to them; run.py reads them.
SCENARIOS: list[Scenario] = []
# (scenario, surface) -> (reason, the symptom the failure must show). A known failure that
# fails with another symptom fails the suite; one that passes is flagged and fails the suite
# until the entry is removed, so the table stays true.
KNOWN_FAILURES: dict[tuple[str, str], tuple[str, str]] = {}
# surface name -> runner(cell, scenario, env) -> (exit status, output)
SURFACES: dict[str, Callable[[Cell, Scenario, dict[str, str]], tuple[int, str]]] = {}
# surface name -> applies(cell, scenario): raises NotApplicable before any server starts
SURFACE_APPLIES: dict[str, Callable[[Cell, Scenario], None]] = {}
# server set name -> factory(dir, scenario) -> (cell, servers; the first one is the AS)
SERVER_SETS: dict[str, Callable[[Path, Scenario], tuple[Cell, list[Server]]]] = {}


def scenario(s: Scenario) -> Scenario:
    if any(x.name == s.name for x in SCENARIOS):
        raise ValueError(f"scenario {s.name} registered twice")
    SCENARIOS.append(s)
    return s


def known_failure(scenario_name: str, surface_name: str, reason: str, symptom: str) -> None:
    KNOWN_FAILURES[(scenario_name, surface_name)] = (reason, symptom)


def surface(name: str, applies: Callable[[Cell, Scenario], None] | None = None) -> Callable[[Callable[[Cell, Scenario, dict[str, str]], tuple[int, str]]], Callable[[Cell, Scenario, dict[str, str]], tuple[int, str]]]:
    """Register a client column; `applies(cell, scenario)` raises NotApplicable (with the
    reason) for a scenario the surface has no way to run, checked before the servers start."""

    def add(f: Callable[[Cell, Scenario, dict[str, str]], tuple[int, str]]) -> Callable[[Cell, Scenario, dict[str, str]], tuple[int, str]]:
        SURFACES[name] = f
        if applies is not None:
            SURFACE_APPLIES[name] = applies
        return f

    return add


def server_set(name: str) -> Callable[[Callable[[Path, Scenario], tuple[Cell, list[Server]]]], Callable[[Path, Scenario], tuple[Cell, list[Server]]]]:
    def add(f: Callable[[Path, Scenario], tuple[Cell, list[Server]]]) -> Callable[[Path, Scenario], tuple[Cell, list[Server]]]:
        SERVER_SETS[name] = f
        return f

    return add


def expect(problems: list[str], what: str, got: object, want: object) -> None:
    if got != want:
        problems.append(f"{what}: {got}, expected {want}")


def at_least(problems: list[str], what: str, got: int, want: int) -> None:
    if got < want:
        problems.append(f"{what}: {got}, expected at least {want}")


def interactive(cell: Cell) -> dict[str, object]:
    """Options for an interactive host: the loopback browser (interop/browser.py plays the user)."""
    return {
        "server_url": cell.resource,
        "client_name": "mcp-auth interop",
        "refresh_skew_secs": 0,
        "timeout_ms": 20000,
        "redirect": {"type": "loopback", "port": 0, "timeout_secs": 60, "open_browser": True},
    }
