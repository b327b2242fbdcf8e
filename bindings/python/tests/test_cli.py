"""The `mcp-auth` command line (as `python -m mcp_auth`) against the loopback demo server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest


def run(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mcp_auth", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


@pytest.fixture
def home(tmp_path: Path) -> dict:
    return {"MCP_AUTH_HOME": str(tmp_path)}


def test_help_and_usage() -> None:
    r = run("--help")
    assert r.returncode == 0 and "probe" in r.stdout and "Exit codes:" in r.stdout
    assert run("frobnicate").returncode == 2
    assert run("probe").returncode == 2


def test_probe_shows_each_step(demo, home) -> None:
    r = run("probe", demo.url, env=home)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "Challenge (401):" in out
    assert "WWW-Authenticate: Bearer" in out
    assert f"protected_resource_metadata GET {demo.origin}/.well-known/oauth-protected-resource/mcp 200" in out
    assert f"authorization_server_metadata GET {demo.origin}/.well-known/oauth-authorization-server 200" in out
    assert re.search(r"token endpoint:\s+" + re.escape(f"{demo.origin}/token"), out)
    j = run("probe", "--json", demo.url, env=home)
    assert j.returncode == 0
    doc = json.loads(j.stdout)
    assert doc["probe"]["status"] == 401
    assert doc["discovery"]["issuer"] == demo.origin
    assert [s["step"] for s in doc["steps"]][:2] == ["probe", "probe"]


def test_login_token_logout(demo, home) -> None:
    assert run("token", demo.url, env=home).returncode == 7
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_auth", "login", "--no-browser", demo.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **home},
    )
    try:
        assert proc.stderr is not None
        url = None
        for line in proc.stderr:
            if "/authorize?" in line:
                url = line.strip()
                break
        assert url, "no authorization URL printed"
        # The "browser": the demo AS approves at once and redirects to the loopback listener.
        with urllib.request.urlopen(url, timeout=10) as page:
            assert b"Authorization complete" in page.read()
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert f"Logged in to {demo.url}" in out
    creds = Path(home["MCP_AUTH_HOME"]) / "credentials.json"
    assert creds.exists() and (creds.stat().st_mode & 0o777) == 0o600

    t = run("token", demo.url, env=home)
    assert t.returncode == 0, t.stderr
    token = t.stdout.strip()
    assert token and token in creds.read_text()
    # What a script does with it.
    req = urllib.request.Request(
        demo.url,
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200

    assert run("logout", demo.url, env=home).returncode == 0
    gone = run("token", demo.url, env=home)
    assert gone.returncode == 7 and "not logged in" in gone.stderr


def test_token_refreshes_an_expired_token(demo, home) -> None:
    import mcp_auth

    store = Path(home["MCP_AUTH_HOME"]) / "credentials.json"
    c = mcp_auth.Client(demo.url, storage=store)
    first = c.access_token()
    data = json.loads(store.read_text())
    data["tokens"][demo.url]["expires_at"] = 1  # long expired, refresh token still valid
    store.write_text(json.dumps(data))
    t = run("token", demo.url, env=home)
    assert t.returncode == 0, t.stderr
    assert t.stdout.strip() not in ("", first)


def test_failures_have_messages_and_exit_codes(demo_server, home) -> None:
    r = run("probe", "http://127.0.0.1:9/mcp", "--timeout", "5", env=home)
    assert r.returncode == 3 and "TransportError" in r.stderr
    r = run("probe", "http://mcp.example.com/mcp", env=home)
    assert r.returncode == 6 and "InsecureUrlError" in r.stderr
    mismatch = demo_server("resource-mismatch")
    r = run("probe", mismatch.url, env=home)
    assert r.returncode == 6 and "does not match" in r.stderr
    r = run("token", "not a url", env=home)
    assert r.returncode == 2 and "InvalidArgumentError" in r.stderr
    r = run("probe", mismatch.url, "--store", "/proc/forbidden/creds.json", env=home)
    assert r.returncode == 6  # discovery fails before the store is touched
