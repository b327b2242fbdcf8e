"""The `mcp-auth` command line (as `python -m mcp_auth`) against the loopback demo server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
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


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    """`mcp-auth ARGS` running, with pipes on stdin, stdout and stderr."""
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_auth", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def authorization_url(proc: subprocess.Popen) -> str:
    """The authorization URL the command prints (on stderr); the lines read are kept in
    `proc.seen_stderr` (see `finish`)."""
    assert proc.stderr is not None
    seen = proc.__dict__.setdefault("seen_stderr", [])
    for line in proc.stderr:
        seen.append(line)
        if "/authorize?" in line:
            return line.strip()
    raise AssertionError("no authorization URL printed:\n" + "".join(seen))


def finish(proc: subprocess.Popen, stdin_text: str = "") -> subprocess.CompletedProcess:
    """Write `stdin_text`, close stdin, and collect the rest of the output (reading through
    the same buffered file objects as `authorization_url`, so that nothing is lost)."""
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(stdin_text)
        proc.stdin.close()
        err = "".join(proc.__dict__.get("seen_stderr", [])) + proc.stderr.read()
        out = proc.stdout.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def approve(url: str) -> str:
    """The user approving in a browser on another machine: the demo AS approves at once and
    answers 302; the Location (the loopback redirect URI with code, state, iss) is returned
    without following it, as it would be shown in that browser's address bar."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 302, e
        return e.headers["Location"]
    raise AssertionError("the authorization server did not redirect")


def mcp_status(url: str, token: str) -> int:
    req = urllib.request.Request(
        url,
        data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def paste_login(url: str, env: dict, *extra: str, pasted: list[str] | None = None) -> subprocess.CompletedProcess:
    """`login --no-browser` completed by pasting the redirect URL on stdin (the SSH case)."""
    proc = start("login", "--no-browser", "--wait", "120", *extra, url, env=env)
    try:
        location = approve(authorization_url(proc))
    except BaseException:
        proc.kill()
        raise
    return finish(proc, "\n".join([*(pasted or []), location]) + "\n")

@pytest.fixture
def home(tmp_path: Path) -> dict:
    return {"MCP_AUTH_HOME": str(tmp_path)}


def test_help_and_usage() -> None:
    r = run("--help")
    assert r.returncode == 0 and "probe" in r.stdout and "exit codes:" in r.stdout
    assert "MCP_AUTH_CLIENT_SECRET" in r.stdout and "130" in r.stdout
    for command in ("probe", "login", "status", "token", "logout"):
        h = run(command, "--help")
        assert h.returncode == 0, h.stderr
        assert "``" not in h.stdout, "RST markup in the help"
        assert "examples:" in h.stdout and f"mcp-auth {command} " in h.stdout
        assert "exit codes:" in h.stdout
    login = run("login", "--help").stdout
    assert "(default: 300)" in login and "(default: 0" in login
    assert run("frobnicate").returncode == 2
    assert run("probe").returncode == 2
    assert run("token", "https://mcp.example.com/mcp", "--json", "--bogus").returncode == 2


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
        url = authorization_url(proc)
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

    out = run("logout", demo.url, env=home)
    assert out.returncode == 0 and "The authorization server revoked the tokens." in out.stdout, out
    # The revoked access token no longer works at the resource server.
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("the revoked token was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 401
    gone = run("token", demo.url, env=home)
    assert gone.returncode == 7 and "not logged in" in gone.stderr


def test_token_refreshes_an_expired_token(demo, home) -> None:
    import mcp_auth

    store = Path(home["MCP_AUTH_HOME"]) / "credentials.json"
    c = mcp_auth.Client(demo.url, storage=store, redirect_handler="headless")
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


def test_login_over_ssh_takes_the_pasted_redirect(demo, home) -> None:
    """The listener is on the remote machine: the user pastes what the browser shows."""
    r = paste_login(demo.url, home, pasted=["", "not a url", "https://example.com/?x=1"])
    assert r.returncode == 0, r.stderr
    assert "paste the URL your browser was redirected to" in r.stderr
    assert "waiting for the browser… (Ctrl-C to cancel)" in r.stderr
    assert "That is not the redirect URL" in r.stderr
    assert f"Logged in to {demo.url}" in r.stdout
    t = run("token", demo.url, env=home)
    assert t.returncode == 0, t.stderr
    assert mcp_status(demo.url, t.stdout.strip()) == 200


def test_a_pasted_redirect_with_a_forged_state_is_refused(demo, home) -> None:
    proc = start("login", "--no-browser", "--wait", "120", demo.url, env=home)
    try:
        location = approve(authorization_url(proc))
    except BaseException:
        proc.kill()
        raise
    forged = re.sub(r"state=[^&]+", "state=forged", location)
    assert forged != location
    r = finish(proc, forged + "\n")
    assert r.returncode == 6, r.stderr
    assert "state" in r.stderr.lower()
    assert run("token", demo.url, env=home).returncode == 7


def test_login_without_a_redirect_times_out_with_a_clear_message(demo, home) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "mcp_auth", "login", "--no-browser", "--wait", "1", demo.url],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, **home},
        timeout=60,
    )
    assert r.returncode == 5, r.stderr
    assert "waiting for the browser" in r.stderr
    assert "no authorization came back within 1 s" in r.stderr
    assert "Traceback" not in r.stderr
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        r = run("login", "--no-browser", "--port", port, demo.url, env=home)
    assert r.returncode == 2 and "choose another --port" in r.stderr, r.stderr


def fake_browser(tmp_path: Path, plays: bool) -> tuple[Path, Path]:
    """A `$BROWSER` that records its argv and, when `plays`, approves and follows the redirect
    back to the loopback listener as a browser would."""
    record = tmp_path / "browser-argv.json"
    script = tmp_path / "fake-browser"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, urllib.request\n"
        f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        + ("urllib.request.urlopen(sys.argv[1], timeout=10).read()\n" if plays else "")
    )
    script.chmod(0o755)
    return script, record


def test_login_opens_the_browser_and_says_it_is_waiting(demo, home, tmp_path) -> None:
    browser, record = fake_browser(tmp_path, plays=True)
    r = run("login", demo.url, env={**home, "BROWSER": str(browser)})
    assert r.returncode == 0, r.stderr
    assert "waiting for the browser… (Ctrl-C to cancel" in r.stderr
    argv = json.loads(record.read_text())
    assert len(argv) == 1 and "/authorize?" in argv[0] and argv[0] in r.stderr
    assert run("token", demo.url, env=home).returncode == 0


def test_login_in_the_browser_times_out_with_a_clear_message(demo, home, tmp_path) -> None:
    browser, record = fake_browser(tmp_path, plays=False)
    r = run("login", "--wait", "1", demo.url, env={**home, "BROWSER": str(browser)})
    assert r.returncode == 5, r.stderr
    assert record.exists(), "the browser was not started"
    assert "no authorization came back within 1 s" in r.stderr
    assert "--wait" in r.stderr


def test_a_client_secret_in_the_environment_does_not_break_other_commands(demo, home) -> None:
    env = {**home, "MCP_AUTH_CLIENT_SECRET": "s3cret-from-env"}
    assert run("probe", demo.url, env=env).returncode == 0
    for args, code in ((("token",), 7), (("status",), 7), (("logout",), 0)):
        r = run(*args, demo.url, env=env)
        assert r.returncode == code, r.stderr
        assert "client_secret" not in r.stderr
    r = run("login", "--client-secret", "x", demo.url, env=home)
    assert r.returncode == 2 and "--client-secret needs --client-id" in r.stderr


def register_client(origin: str) -> tuple[str, str]:
    """A client registered out of band (as an administrator would), with a secret."""
    req = urllib.request.Request(
        f"{origin}/register",
        data=json.dumps(
            {
                "client_name": "pre-registered by an admin",
                "redirect_uris": ["http://127.0.0.1/callback"],
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"],
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        doc = json.loads(r.read())
    return doc["client_id"], doc["client_secret"]


def test_a_pre_registered_client_is_remembered_for_refresh(demo, home) -> None:
    """`login --client-id` once; `token` and `status` then work without it. The server binds
    the refresh token to that client: refreshing with any other client (a new registration)
    would be refused."""
    client_id, secret = register_client(demo.origin)
    env = {**home, "MCP_AUTH_CLIENT_SECRET": secret}
    r = paste_login(demo.url, env, "--client-id", client_id)
    assert r.returncode == 0, r.stderr
    store = Path(home["MCP_AUTH_HOME"]) / "credentials.json"
    first = run("token", demo.url, env=home).stdout.strip()
    assert first

    def expire() -> None:
        data = json.loads(store.read_text())
        assert data["tokens"][demo.url]["refresh_token"]
        data["tokens"][demo.url]["expires_at"] = 1  # expired; the refresh token is still good
        store.write_text(json.dumps(data))

    for e in (home, env):  # with and without the secret in the environment
        expire()
        t = run("token", demo.url, env=e)
        assert t.returncode == 0, t.stderr
        fresh = t.stdout.strip()
        assert fresh and fresh != first
        assert mcp_status(demo.url, fresh) == 200  # the server accepted the refreshed token
        first = fresh
    data = json.loads(store.read_text())
    assert [c["client_id"] for c in data["clients"].values()] == [client_id], "a new registration"

    s = run("status", demo.url, env=home)
    assert s.returncode == 0, s.stderr
    assert f"{client_id} (secret stored)" in s.stdout
    for out in (s.stdout, s.stderr, r.stdout, r.stderr):
        assert secret not in out


def test_status_and_token_json(demo, home) -> None:
    s = run("status", demo.url, env=home)
    assert s.returncode == 7 and "not logged in" in s.stdout
    assert paste_login(demo.url, home, "--scope", "mcp:basic").returncode == 0
    s = run("status", demo.url, env=home)
    assert s.returncode == 0, s.stderr
    assert f"issuer:           {demo.origin}" in s.stdout
    assert "refresh token:    present" in s.stdout and "expires " in s.stdout
    j = json.loads(run("status", "--json", demo.url, env=home).stdout)
    assert j["logged_in"] and j["issuer"] == demo.origin and j["client_id"].startswith("dcr_")
    assert j["token"]["refresh_token"] is True and j["token"]["expired"] is False
    creds = json.loads((Path(home["MCP_AUTH_HOME"]) / "credentials.json").read_text())
    secret = creds["clients"][demo.origin].get("client_secret")
    if secret:
        assert secret not in s.stdout and secret not in json.dumps(j)

    t = run("token", "--json", demo.url, env=home)
    assert t.returncode == 0, t.stderr
    doc = json.loads(t.stdout)
    assert set(doc) == {"access_token", "token_type", "expires_at", "scope"}
    assert doc["token_type"].lower() == "bearer"
    assert isinstance(doc["expires_at"], int) and doc["expires_at"] > time.time()
    assert doc["scope"] == j["token"]["scope"]
    assert mcp_status(demo.url, doc["access_token"]) == 200


def _registrations(url: str, store: Path) -> list:
    """Authorize in process (the test plays the browser) and return the registration steps
    the server answered."""
    import mcp_auth

    events: list = []
    c = mcp_auth.Client(
        url,
        storage=store,
        observer=events.append,
        redirect_handler=approve,
        redirect_uri="http://127.0.0.1:9/callback",
    )
    c.logout()
    c.access_token()
    return [e for e in events if e.step == "registration" and e.status is not None]


def test_logout_forget_client_makes_the_next_login_register_anew(demo, home) -> None:
    store = Path(home["MCP_AUTH_HOME"]) / "credentials.json"
    assert paste_login(demo.url, home).returncode == 0
    before = json.loads(run("status", "--json", demo.url, env=home).stdout)["client_id"]
    assert before

    r = run("logout", demo.url, env=home)
    assert r.returncode == 0 and "Forgot" not in r.stdout
    assert _registrations(demo.url, store) == [], "a plain logout kept the registration"

    r = run("logout", "--forget-client", demo.url, env=home)
    assert r.returncode == 0, r.stderr
    assert f"Forgot the client registration for {demo.origin}" in r.stdout
    s = run("status", "--json", demo.url, env=home)
    assert json.loads(s.stdout)["client_id"] is None
    regs = _registrations(demo.url, store)
    assert [e.status for e in regs] == [201], "the server saw no new registration"
    after = json.loads(run("status", "--json", demo.url, env=home).stdout)["client_id"]
    assert after and after != before


def test_a_store_path_with_a_tilde_is_expanded(demo, tmp_path, monkeypatch) -> None:
    import mcp_auth

    env = {"HOME": str(tmp_path), "MCP_AUTH_HOME": ""}
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcp_auth", "login", "--no-browser", "--store", "~/creds.json", demo.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        cwd=work,
    )
    try:
        location = approve(authorization_url(proc))
    except BaseException:
        proc.kill()
        raise
    r = finish(proc, location + "\n")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "creds.json").is_file()
    assert not (work / "~").exists(), "a directory named ~ was created"
    assert str(tmp_path / "creds.json") in r.stdout

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(work)
    c = mcp_auth.Client(demo.url, storage="~/api.json", redirect_handler="headless")
    c.access_token()
    assert (tmp_path / "api.json").is_file() and not (work / "~").exists()
    c = mcp_auth.Client(demo.url, storage={"type": "file", "path": "~/dict.json"}, redirect_handler="headless")
    c.access_token()
    assert (tmp_path / "dict.json").is_file() and not (work / "~").exists()
    assert mcp_auth.FileStorage("~/x.json").path == tmp_path / "x.json"


def test_docs_list_every_exit_code_and_command() -> None:
    from mcp_auth import cli

    docs = (Path(__file__).resolve().parents[3] / "docs" / "cli.md").read_text()
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", docs, re.M))
    helped = dict(re.findall(r"^  (\d+) +(.+)$", cli.EXIT_CODES_HELP, re.M))
    assert set(table) == set(helped) == {
        str(getattr(cli, n)) for n in dir(cli) if n.startswith("EXIT_") and n != "EXIT_CODES_HELP"
    }
    for command in ("probe", "login", "status", "token", "logout"):
        assert f"### `{command} URL" in docs


def test_file_storage_lock_deadline_and_forgetting_a_client(tmp_path) -> None:
    """The credential file as the Python package exposes it: a lock held elsewhere ends in a
    StorageError at the deadline with the file untouched; remove_client_info forgets one
    registration."""
    import fcntl

    import mcp_auth

    path = tmp_path / "creds.json"
    store = mcp_auth.FileStorage(path, lock_timeout=0.3)
    store.set_tokens("https://r.example/mcp", {"access_token": "at", "token_type": "Bearer"})
    store.set_client_info("https://as.example", {"client_id": "c1"})
    store.set_client_info("https://as2.example", {"client_id": "c2"})
    before = path.read_bytes()
    with open(f"{path}.lock", "a+") as held:  # another open file description, as another process
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(mcp_auth.StorageError, match="locked by another process"):
            store.remove_client_info("https://as.example")
        assert path.read_bytes() == before
        fcntl.flock(held, fcntl.LOCK_UN)
    store.remove_client_info("https://as.example")
    assert store.get_client_info("https://as.example") is None
    assert store.get_client_info("https://as2.example").client_id == "c2"
    assert store.get_tokens("https://r.example/mcp").access_token == "at"
    assert (path.stat().st_mode & 0o777) == 0o600


def test_login_takes_client_metadata(demo, home, tmp_path) -> None:
    """`--client-metadata` (inline JSON or @file) reaches the registration: the demo server's
    answer, stored in the credential file, carries the members, and the method is used."""
    doc = {"token_endpoint_auth_method": "client_secret_post", "software_id": "cli-host", "contacts": ["ops@cli.example"]}
    md = tmp_path / "md.json"
    md.write_text(json.dumps(doc))
    r = paste_login(demo.url, home, "--client-metadata", f"@{md}")
    assert r.returncode == 0, r.stderr
    data = json.loads((Path(home["MCP_AUTH_HOME"]) / "credentials.json").read_text())
    clients = list(data["clients"].values())
    assert len(clients) == 1, data.keys()
    assert clients[0]["token_endpoint_auth_method"] == "client_secret_post"
    assert clients[0]["software_id"] == "cli-host"
    assert clients[0]["contacts"] == ["ops@cli.example"]
    t = run("token", demo.url, env=home)
    assert t.returncode == 0 and mcp_status(demo.url, t.stdout.strip()) == 200


def test_client_metadata_usage_errors(demo, home) -> None:
    for value, named in [
        ("[1]", "a JSON object is expected"),
        ("{not json", "not JSON"),
        ("@/nonexistent/md.json", "cannot read"),
        ('{"client_id": "x"}', "client_id is not client metadata"),
        ('{"logo_uri": "ftp://x/l.png"}', "logo_uri"),
    ]:
        r = run("login", "--no-browser", "--client-metadata", value, demo.url, env=home)
        assert r.returncode == 2, (value, r.returncode, r.stderr)
        assert named in r.stderr, (value, r.stderr)
