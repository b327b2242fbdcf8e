"""Processes sharing a storage object that the host writes itself (files in a directory), with the
refresh lease as the object's ``acquire_lease``/``release_lease`` over ``fcntl.flock``
(docs/fleet.md). Against the demo server with 1-second tokens and refresh token reuse detection
(a replayed refresh token revokes the grant), counted on the server's side: with the lease one
refresh per expiry and no reuse; without it (the control) the processes replay the refresh token.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import mcp_auth as m

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fcntl")

# The host's storage and one worker process: `python -c WORKER DIR URL THREADS GENERATIONS LEASE`.
# Prints "ready", waits for a line on stdin (every process starts at once), then THREADS threads
# share one client and call tools/list until the process has seen GENERATIONS distinct access
# tokens in the store, or a call failed; prints "calls N failures F distinct D".
WORKER = r'''
import fcntl, hashlib, os, sys, threading, time
import mcp_auth as m


class DirStorage:
    """Tokens and registrations in files the host writes (0600, replaced atomically)."""

    def __init__(self, directory):
        self.dir = directory

    def _path(self, kind, key):
        return os.path.join(self.dir, f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json")

    def _read(self, kind, key):
        try:
            with open(self._path(kind, key)) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def _write(self, kind, key, text):
        path = self._path(kind, key)
        tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def get_tokens(self, resource):
        return self._read("tokens", resource)

    def set_tokens(self, resource, tokens):
        self._write("tokens", resource, tokens.to_json())

    def remove_tokens(self, resource):
        try:
            os.remove(self._path("tokens", resource))
        except FileNotFoundError:
            pass

    def get_client_info(self, issuer):
        return self._read("clients", issuer)

    def set_client_info(self, issuer, info):
        self._write("clients", issuer, info.to_json())


class LeasedDirStorage(DirStorage):
    """The same, with the refresh lease: an exclusive flock on a lease file per key, waited for
    at most `ttl` seconds (the kernel drops it when the holder dies)."""

    def __init__(self, directory):
        super().__init__(directory)
        self.held = {}
        self.lock = threading.Lock()

    def acquire_lease(self, key, owner, ttl):
        fd = os.open(self._path("lease", key), os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + ttl
        pause = 0.002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise TimeoutError(f"the refresh lease is held by another process for {ttl} s")
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
        with self.lock:
            self.held[owner] = fd

    def release_lease(self, key, owner):
        with self.lock:
            fd = self.held.pop(owner, None)
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def main():
    directory, url, threads, generations, lease = sys.argv[1:6]
    store = LeasedDirStorage(directory) if lease == "1" else DirStorage(directory)
    # A revoked grant (the control without lease) authorizes again: the demo AS approves at once.
    client = m.Client(url, storage=store, timeout=120, redirect_handler="headless")
    print("ready", flush=True)
    sys.stdin.readline()
    seen, failures, calls = set(), [], [0]
    lock = threading.Lock()
    deadline = time.monotonic() + 120

    def work():
        while time.monotonic() < deadline:
            with lock:
                if len(seen) >= int(generations) or failures:
                    return
            try:
                r = client.post_json({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
                ok = r.status == 200
                why = f"status {r.status}"
            except m.McpAuthError as e:
                ok, why = False, str(e)
            stored = store.get_tokens(client.resource_key)
            with lock:
                calls[0] += 1
                if not ok:
                    failures.append(why)
                if stored:
                    seen.add(m.OAuthToken.from_json(stored).access_token)
            time.sleep(0.04)  # pacing only; expiry is the server's 1 s token lifetime

    pool = [threading.Thread(target=work) for _ in range(int(threads))]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    for f in failures[:3]:
        print("failure:", f)
    print(f"calls {calls[0]} failures {len(failures)} distinct {len(seen)}", flush=True)


main()
'''

PROCESSES = 4
THREADS = 4
GENERATIONS = 4


def counters(server) -> dict:
    with urllib.request.urlopen(f"{server.origin}/_demo/counters", timeout=30) as r:
        return json.loads(r.read())


def run_fleet(demo_server, tmp_path: Path, lease: bool) -> tuple[dict, list[str]]:
    server = demo_server("default", "--token-ttl", "1", "--refresh-reuse-detection", "--counters")
    store_dir = tmp_path / ("leased" if lease else "plain")
    store_dir.mkdir()
    # One authorization with the host's storage, then the token expires (as if the processes
    # started after its lifetime).
    code = "import sys; exec(sys.argv[1].split('\\ndef main')[0]); " + (
        "s = DirStorage(sys.argv[2]); c = m.Client(sys.argv[3], storage=s, redirect_handler=\"headless\"); c.access_token(); "
        "t = m.OAuthToken.from_json(s.get_tokens(c.resource_key)).with_expiry_from(0); "
        "s.set_tokens(c.resource_key, t)"
    )
    subprocess.run([sys.executable, "-c", code, WORKER, str(store_dir), server.url], check=True, timeout=120)
    assert counters(server)["grants"] == {"authorization_code": 1}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(store_dir), server.url, str(THREADS), str(GENERATIONS), "1" if lease else "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for p in procs:
        assert p.stdout is not None
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    reports = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out
        reports.append(out)
    return counters(server), reports


def report_field(report: str, name: str) -> int:
    line = next(x for x in report.splitlines() if x.startswith("calls "))
    words = line.split()
    return int(words[words.index(name) + 1])


def test_processes_sharing_a_python_storage_with_a_lease_refresh_once_per_expiry(demo_server, tmp_path) -> None:
    c, reports = run_fleet(demo_server, tmp_path, lease=True)
    for r in reports:
        assert report_field(r, "failures") == 0, reports
        assert report_field(r, "distinct") >= GENERATIONS, reports
    assert c["reuse_detections"] == 0, (c, reports)
    assert c["revocations"] == 0, c
    assert c["grants"].get("refresh_token") == c["refreshes"], c
    assert c["refreshes"] >= GENERATIONS - 1, c
    assert c["grants"].get("authorization_code") == 1, "no new login"


def test_without_lease_methods_processes_replay_the_refresh_token(demo_server, tmp_path) -> None:
    """The control: the same storage without acquire_lease/release_lease."""
    c, reports = run_fleet(demo_server, tmp_path, lease=False)
    assert c["reuse_detections"] >= 1 and c["revocations"] >= 1, (c, reports)


def test_the_adapter_calls_the_lease_methods_only_when_present() -> None:
    from mcp_auth._storage import adapt_storage

    calls = []

    class Leased(m.MemoryStorage):
        def acquire_lease(self, key: str, owner: str, ttl: float) -> None:
            calls.append(("acquire", key, owner, ttl))

        def release_lease(self, key: str, owner: str) -> None:
            calls.append(("release", key, owner))

    a = adapt_storage(Leased())
    assert a.acquire_lease("k", "o", 1.5) is True
    a.release_lease("k", "o")
    assert calls == [("acquire", "k", "o", 1.5), ("release", "k", "o")]
    plain = adapt_storage(m.MemoryStorage())
    assert plain.acquire_lease("k", "o", 1.0) is False
    plain.release_lease("k", "o")
