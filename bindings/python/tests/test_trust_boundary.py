"""The trust boundary from Python: ``Client.send`` binds the token to the MCP server's origin
(``ForeignOriginError``, or no token with ``cross_origin="without_token"``), and a
server-supplied URL the address policy refuses is ``AddressRefusedError`` with nothing sent."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import mcp_auth as m

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}


class Recorder:
    """A loopback HTTP server answering every request with ``status`` (and ``headers``),
    recording ``(method, path, Authorization)``."""

    def __init__(self, status: int = 404, headers: list[tuple[str, str]] | None = None) -> None:
        outer = self
        self.requests: list[tuple[str, str, str | None]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests.append((self.command, self.path, self.headers.get("Authorization")))
                self.send_response(status)
                for k, v in headers or []:
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other() -> Iterator[Recorder]:
    r = Recorder()
    yield r
    r.close()


def test_send_to_another_origin_is_refused_and_sends_nothing(demo, other) -> None:
    c = m.Client(demo.url, redirect_handler="headless")
    assert c.post_json(INITIALIZE).status == 200
    token = c.current_token()
    assert token
    with pytest.raises(m.ForeignOriginError) as e:
        c.send("POST", f"{other.origin}/steal?x=1", json=INITIALIZE)
    assert e.value.kind == "foreign_origin"
    assert e.value.code == 404
    assert demo.origin in str(e.value)
    assert token not in str(e.value) and "x=1" not in str(e.value)
    assert other.requests == []


def test_send_without_token_to_another_origin_when_asked(demo, other) -> None:
    c = m.Client(demo.url, cross_origin="without_token", redirect_handler="headless")
    assert c.post_json(INITIALIZE).status == 200
    r = c.send("GET", f"{other.origin}/public")
    assert r.status == 404 and r.authorizations == 0
    assert other.requests == [("GET", "/public", None)]


def test_cross_origin_and_allowed_addresses_are_checked_options() -> None:
    with pytest.raises(m.InvalidArgumentError, match="allow"):
        m.Client("http://127.0.0.1:1/mcp", cross_origin="allow")
    with pytest.raises(m.InvalidArgumentError, match="10.0.0.0/99"):
        m.Client("http://127.0.0.1:1/mcp", allowed_addresses=["10.0.0.0/99"])
    m.Client("http://127.0.0.1:1/mcp", allowed_addresses=["10.0.0.0/8", "sso.corp.example"])


def test_userinfo_in_resource_metadata_is_refused_and_never_reached() -> None:
    victim = socket.socket()
    victim.bind(("127.0.0.1", 0))
    victim.listen(8)
    port = victim.getsockname()[1]
    www = f'Bearer resource_metadata="http://someone:pw-never-shown@127.0.0.1:{port}/prm"'
    mcp = Recorder(401, [("WWW-Authenticate", www)])
    try:
        c = m.Client(f"{mcp.origin}/mcp", timeout=10, redirect_handler="headless")
        with pytest.raises(m.AddressRefusedError) as e:
            c.post_json(INITIALIZE)
        assert e.value.kind == "address_refused"
        assert "userinfo" in str(e.value) and "pw-never-shown" not in str(e.value)
        victim.setblocking(False)
        with pytest.raises(BlockingIOError):
            victim.accept()
    finally:
        mcp.close()
        victim.close()


def test_cli_allow_address_reaches_the_options(tmp_path) -> None:
    env = {**os.environ, "MCP_AUTH_HOME": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "mcp_auth", "probe", "http://127.0.0.1:9/mcp", "--allow-address", "10.0.0.0/99"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2 and "10.0.0.0/99" in r.stderr, r.stderr
    r = subprocess.run(
        [
            *(sys.executable, "-m", "mcp_auth", "probe", "http://127.0.0.1:9/mcp", "--timeout", "5"),
            *("--allow-address", "10.0.0.0/8", "--allow-address", "sso.corp.example"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    # Accepted: the probe gets as far as the (closed) port.
    assert r.returncode == 3 and "TransportError" in r.stderr, r.stderr
