"""TLS trust from Python and the CLI: a private CA generated at test time, and the TLS front
(`mcp-auth-tls-front`) before the loopback demo server. The control (CA not trusted) fails with
CertificateError, whose message names the settings."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import mcp_auth
from mcp_auth import CertificateError, Client, TransportError

from conftest import REPO, DemoServer


def tls_front_binary() -> Path:
    env = os.environ.get("MCP_AUTH_TLS_FRONT")
    if env:
        return Path(env)
    path = REPO / "target" / "debug" / "mcp-auth-tls-front"
    if not path.exists():
        subprocess.run(["cargo", "build", "-q", "-p", "mcp-auth-tls-front"], cwd=REPO, check=True)
    return path


class TlsFront:
    """A running front: HTTPS on 127.0.0.1 relaying to `upstream`, with its CA (and a client
    certificate) written to `dir`. Stops when its stdin closes."""

    def __init__(self, upstream: str, dir: Path, *args: str) -> None:
        self.dir = dir
        self.proc = subprocess.Popen(
            [str(tls_front_binary()), "--upstream", upstream, "--dir", str(dir), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        self.origin = self.proc.stdout.readline().strip()
        if not self.origin.startswith("https://"):
            self.stop()
            raise RuntimeError(f"tls front did not start: {self.origin!r}")
        self.url = self.origin + "/mcp"
        self.ca = str(dir / "ca.pem")

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
def tls_front(demo: DemoServer, tmp_path: Path) -> Iterator[Callable[..., TlsFront]]:
    fronts: list[TlsFront] = []

    def start(*args: str) -> TlsFront:
        upstream = demo.origin.removeprefix("http://")
        f = TlsFront(upstream, tmp_path / f"front{len(fronts)}", *args)
        fronts.append(f)
        return f

    yield start
    for f in fronts:
        f.stop()


def test_certificate_error_is_a_transport_error_with_its_own_kind() -> None:
    assert issubclass(CertificateError, TransportError)
    assert CertificateError.kind == "certificate"
    assert mcp_auth.CertificateError is CertificateError


def test_untrusted_private_ca_raises_certificate_error(tls_front) -> None:
    front = tls_front()
    with pytest.raises(CertificateError) as info:
        Client(front.url).probe()
    msg = str(info.value)
    assert "UnknownIssuer" in msg and "tls.ca_file" in msg and "SSL_CERT_FILE" in msg
    assert info.value.code == 203


def test_ca_file_is_trusted(tls_front) -> None:
    front = tls_front()
    probe = Client(front.url, tls={"ca_file": front.ca}).probe()
    assert probe.status == 401
    assert probe.challenge is not None


def test_ca_pem_and_client_certificate_for_mutual_tls(tls_front) -> None:
    front = tls_front("--require-client-cert")
    ca_pem = Path(front.ca).read_text()
    with pytest.raises(CertificateError):
        Client(front.url, tls={"ca_pem": ca_pem}).probe()
    tls = {
        "ca_pem": ca_pem,
        "client_cert_file": str(front.dir / "client.pem"),
        "client_key_file": str(front.dir / "client-key.pem"),
    }
    assert Client(front.url, tls=tls).probe().status == 401


def test_bad_tls_options_are_invalid_arguments() -> None:
    with pytest.raises(mcp_auth.InvalidArgumentError):
        Client("https://mcp.example.com/mcp", tls={"ca_file": "/nonexistent/ca.pem"})
    with pytest.raises(mcp_auth.InvalidArgumentError):
        Client("https://mcp.example.com/mcp", tls={"client_cert_file": "/c.pem"})


CHILD = """
import sys
from mcp_auth import CertificateError, Client
try:
    print(Client(sys.argv[1]).probe().status)
except CertificateError:
    print("certificate")
"""


def test_ssl_cert_file_is_honoured(tls_front, tmp_path: Path) -> None:
    front = tls_front()
    other = tls_front()

    def child(cert_file: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "SSL_CERT_DIR"}
        env["SSL_CERT_FILE"] = cert_file
        r = subprocess.run(
            [sys.executable, "-c", CHILD, front.url], capture_output=True, text=True, env=env, timeout=60
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    assert child(front.ca) == "401"
    assert child(other.ca) == "certificate"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcp_auth", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_cli_ca_file(tls_front, tmp_path: Path) -> None:
    front = tls_front()
    home = {"MCP_AUTH_HOME": str(tmp_path)}
    r = cli("probe", front.url, env=home)
    assert r.returncode == 3, r.stderr
    assert "CertificateError" in r.stderr and "--ca-file" in r.stderr
    r = cli("probe", "--ca-file", front.ca, front.url, env=home)
    # The challenge came back over TLS; what follows (discovery on the plaintext demo server,
    # whose metadata names its own http origin) is not about trust.
    assert "Challenge (401):" in r.stdout, r.stderr
    assert "CertificateError" not in r.stderr


def test_cli_proxy_option_is_used(demo: DemoServer, tmp_path: Path) -> None:
    # A proxy that refuses connections: a non-loopback URL goes to it and fails as transport;
    # the loopback demo server bypasses it.
    home = {"MCP_AUTH_HOME": str(tmp_path)}
    r = cli("probe", "--proxy", "http://127.0.0.1:9", demo.url, env=home)
    assert r.returncode == 0, r.stderr
