"""Fixtures: the reference vectors, the divergence table (docs/differences.md), and the loopback demo server
(`mcp-auth-demo-server`, built by `make test-python`; set MCP_AUTH_DEMO_SERVER to its path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
VECTORS = HERE / "vectors" / "python-sdk-2.3.0.json"


@pytest.fixture(scope="session")
def vectors() -> dict:
    return json.loads(VECTORS.read_text())


@pytest.fixture(scope="session")
def divergence_table() -> str:
    return (REPO / "docs" / "differences.md").read_text()


def demo_server_binary() -> Path:
    env = os.environ.get("MCP_AUTH_DEMO_SERVER")
    if env:
        return Path(env)
    path = REPO / "target" / "debug" / "mcp-auth-demo-server"
    if not path.exists():
        subprocess.run(
            ["cargo", "build", "-q", "-p", "mcp-auth-demo-server"], cwd=REPO, check=True
        )
    return path


class DemoServer:
    """A running `mcp-auth-demo-server`; stops when its stdin closes."""

    def __init__(self, topology: str = "default", *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(demo_server_binary()), "--port", "0", "--topology", topology, "--exit-on-stdin-eof", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"demo server did not start: {line!r}")
        self.url = line.removeprefix("listening on ")
        self.origin = self.url.rsplit("/", 1)[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def demo_server() -> Iterator[Callable[..., DemoServer]]:
    """`demo_server(topology, *args)` starts a server (more command-line `args`, e.g.
    `--context-file PATH`), stopped at the end of the test."""
    servers: list[DemoServer] = []

    def start(topology: str = "default", *args: str) -> DemoServer:
        s = DemoServer(topology, *args)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def demo(demo_server: Callable[..., DemoServer]) -> DemoServer:
    """The default topology."""
    return demo_server("default")


@pytest.fixture
def python() -> str:
    return sys.executable


class RejectingResourceServer:
    """An MCP resource server in Python that refuses every token: its own protected resource
    metadata names the demo server as authorization server (which issues tokens for any
    resource), and its MCP endpoint answers every POST with ``status`` and the
    ``WWW-Authenticate`` lines ``challenges`` (``{prm}`` is replaced with its metadata URL).
    The demo binary's ``faults.mcp_always_unauthorized`` is not reachable from the command
    line; this is the same behaviour with several challenges."""

    def __init__(self, issuer: str, status: int, challenges: list[str]) -> None:
        import http.server
        import threading

        outer = self
        self.requests: list[tuple[str, str, str | None]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                outer.requests.append(("GET", self.path, self.headers.get("Authorization")))
                if self.path == "/.well-known/oauth-protected-resource/mcp":
                    doc = {"resource": outer.url, "authorization_servers": [issuer]}
                    self._send(200, json.dumps(doc).encode(), [("Content-Type", "application/json")])
                else:
                    self._send(404, b"", [])

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append(("POST", self.path, self.headers.get("Authorization")))
                lines = [c.replace("{prm}", outer.prm) for c in challenges]
                headers = [("WWW-Authenticate", v) for v in lines]
                headers.append(("Content-Type", "application/json"))
                self._send(status, b'{"error":"invalid_token"}', headers)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.origin}/mcp"
        self.prm = f"{self.origin}/.well-known/oauth-protected-resource/mcp"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rejecting_server(demo: DemoServer) -> Iterator[Callable[[int, list[str]], RejectingResourceServer]]:
    """`rejecting_server(status, challenges)`: see `RejectingResourceServer` (the AS is `demo`)."""
    servers: list[RejectingResourceServer] = []

    def start(status: int, challenges: list[str]) -> RejectingResourceServer:
        s = RejectingResourceServer(demo.origin, status, challenges)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()
