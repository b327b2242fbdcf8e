"""`examples/python/conformance_client.py`, the conformance-suite client over the package: its
option mapping (the Rust client's), and whole runs against the demo server's conformance
topologies (SSE answers, pre-registered and client-credentials contexts, the stateless wire)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

CLIENT = REPO / "examples" / "python" / "conformance_client.py"


def load_client():
    spec = importlib.util.spec_from_file_location("conformance_client", CLIENT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_client(url: str, scenario: str, context: dict | None = None, version: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["MCP_CONFORMANCE_SCENARIO"] = scenario
    env.pop("MCP_CONFORMANCE_PROTOCOL_VERSION", None)
    if context is not None:
        env["MCP_CONFORMANCE_CONTEXT"] = json.dumps(context)
    if version is not None:
        env["MCP_CONFORMANCE_PROTOCOL_VERSION"] = version
    return subprocess.run([sys.executable, str(CLIENT), url], env=env, capture_output=True, text=True, timeout=timeout)


def test_option_mapping(monkeypatch) -> None:
    c = load_client()
    monkeypatch.delenv("MCP_CONFORMANCE_PROTOCOL_VERSION", raising=False)
    base = {
        "server_url": "http://s/mcp",
        "client_name": "mcp-auth conformance client",
        "client_metadata_url": "https://conformance-test.local/client-metadata.json",
        "timeout_ms": 10000,
        "redirect": {"type": "headless"},
    }
    assert c.options("http://s/mcp", "auth/metadata-default", {}) == base
    assert c.options("http://s/mcp", "auth/client-credentials-jwt", {"client_id": "id", "private_key_pem": "PEM", "signing_algorithm": "ES256", "client_secret": None}) == {
        **base, "client_id": "id", "private_key_pem": "PEM", "signing_algorithm": "ES256", "grant": "client_credentials",
    }
    # A secret without a client_id is not pre-registration.
    assert c.options("http://s/mcp", "auth/x", {"client_secret": "s"}) == base
    assert c.options("http://s/mcp", "auth/wif-jwt-bearer", {"valid_jwt": "JWT"}) == {**base, "grant": "jwt_bearer", "assertion": "JWT"}
    ctx = {"idp_id_token": "IDT", "idp_token_endpoint": "http://idp/token", "idp_client_id": "idp-c", "idp_client_secret": "idp-s", "client_id": "c", "client_secret": "s"}
    assert c.options("http://s/mcp", "auth/enterprise-managed-authorization", ctx) == {
        **base, "client_id": "c", "client_secret": "s", "grant": "enterprise_managed", "id_token": "IDT",
        "idp_token_endpoint": "http://idp/token", "idp_client_id": "idp-c", "idp_client_secret": "idp-s",
    }
    monkeypatch.setenv("MCP_CONFORMANCE_PROTOCOL_VERSION", "2026-07-28")
    assert c.options("http://s/mcp", "auth/x", {})["protocol_version"] == "2026-07-28"


@pytest.mark.parametrize(
    "topology",
    [
        "metadata-default",
        "metadata-var2",
        "scope-step-up",
        "offline-access-scope",
        "token-endpoint-auth-post",
        "pre-registration",
        "client-credentials-basic",
        "client-credentials-jwt",
    ],
)
def test_runs_against_the_demo_server(demo_server, tmp_path: Path, topology: str) -> None:
    context_file = tmp_path / "context.json"
    server = demo_server(topology, "--context-file", str(context_file))
    context = json.loads(context_file.read_text()) if context_file.exists() else None
    p = run_client(server.url, f"auth/{topology}", context)
    assert p.returncode == 0, p.stderr
    assert "tools/call -> 200" in p.stderr
    assert "initialize -> 200" in p.stderr
    assert '"step":"token_exchange"' in p.stderr or '"step":"client_credentials"' in p.stderr


def test_the_stateless_wire_sends_no_initialize(demo) -> None:
    p = run_client(demo.url, "auth/metadata-default", version="2026-07-28")
    assert p.returncode == 0, p.stderr
    assert "initialize" not in p.stderr.replace("notifications/initialized", "")
    assert "tools/list -> 200" in p.stderr and "tools/call -> 200" in p.stderr


def test_failures_exit_1() -> None:
    p = run_client("http://127.0.0.1:9/mcp", "auth/metadata-default")
    assert p.returncode == 1
    assert "conformance client: TransportError" in p.stderr
