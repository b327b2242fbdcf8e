"""Fixtures: the reference vectors, the README divergence table, and the loopback demo server
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
    readme = (REPO / "README.md").read_text()
    return readme.split("## Differences from the Python SDK", 1)[1].split("\n## ", 1)[0]


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

    def __init__(self, topology: str = "default") -> None:
        self.proc = subprocess.Popen(
            [str(demo_server_binary()), "--port", "0", "--topology", topology, "--exit-on-stdin-eof"],
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
def demo_server() -> Iterator[Callable[[str], DemoServer]]:
    """`demo_server(topology)` starts a server, stopped at the end of the test."""
    servers: list[DemoServer] = []

    def start(topology: str = "default") -> DemoServer:
        s = DemoServer(topology)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


@pytest.fixture
def demo(demo_server: Callable[[str], DemoServer]) -> DemoServer:
    """The default topology."""
    return demo_server("default")


@pytest.fixture
def python() -> str:
    return sys.executable
