"""Cancellation: `Client.cancel()` from another thread, and Ctrl-C (SIGINT) interrupting a
blocking login wait in a child process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import mcp_auth as m

CHILD = r"""
import sys, time
import signal
# Ctrl-C as a terminal delivers it, whatever this test's parent did: a shell's background job
# ignores SIGINT, and an ignored signal is inherited across exec.
signal.signal(signal.SIGINT, signal.default_int_handler)
import mcp_auth as m

def observer(event):
    # The step before the authorization: the login wait is next.
    if event.step in ("registration", "client_identity"):
        print("ready", flush=True)

client = m.Client(
    sys.argv[1],
    redirect={"type": "loopback", "port": 0, "timeout_secs": 300, "open_browser": False},
    on_authorization_url=lambda url, opened: None,  # nobody follows it: the wait is cancelled
    observer=observer,
)
try:
    client.post_json({"jsonrpc": "2.0", "id": 1, "method": "ping"})
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
print("returned", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_interrupts_a_login_waiting_for_the_browser(demo, python) -> None:
    child = subprocess.Popen(
        [python, "-c", CHILD, demo.url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        sent = time.monotonic()
        os.kill(child.pid, signal.SIGINT)
        # Generous bound (loaded machines); the login wait itself is 300 s.
        out, err = child.communicate(timeout=5)
        took = time.monotonic() - sent
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    print(f"SIGINT to exit: {took * 1000:.0f} ms")
    assert child.returncode == 3, (out, err)
    assert "KeyboardInterrupt" in out


def test_cancel_from_another_thread_raises_cancelled_and_the_client_stays_usable(demo) -> None:
    ready = threading.Event()

    def observer(event: m.TraceEvent) -> None:
        if event.step in ("registration", "client_identity"):
            ready.set()

    client = m.Client(
        demo.url,
        redirect={"type": "loopback", "port": 0, "timeout_secs": 300, "open_browser": False},
        on_authorization_url=lambda url, opened: None,  # nobody follows it: the wait is cancelled
        observer=observer,
    )
    outcome: list[BaseException] = []

    def login() -> None:
        try:
            client.post_json({"jsonrpc": "2.0", "id": 1, "method": "ping"})
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            outcome.append(e)

    t = threading.Thread(target=login)
    t.start()
    assert ready.wait(timeout=60)
    sent = time.monotonic()
    client.cancel()
    t.join(timeout=30)
    took = time.monotonic() - sent
    assert not t.is_alive()
    print(f"cancel to return: {took * 1000:.0f} ms")
    assert len(outcome) == 1 and isinstance(outcome[0], m.CancelledError), outcome
    assert outcome[0].kind == "cancelled"
    # Later calls run normally.
    assert client.probe().status == 401


def test_a_flow_logs_to_the_mcp_auth_logger_without_secrets(demo, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG, logger="mcp_auth")
    client = m.Client(demo.url, redirect_handler="headless")
    client.post_json({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    token = client.access_token()
    ours = [r for r in caplog.records if r.name.startswith("mcp_auth")]
    text = "\n".join(r.getMessage() for r in ours)
    for step in ("protected_resource_metadata", "authorization", "token_exchange"):
        assert step in text, text
    for r in caplog.records:
        message = r.getMessage()
        assert token not in message
        assert "state=" not in message and "code=" not in message


def test_a_flow_writes_nothing_to_stderr(demo, python) -> None:
    code = (
        "import sys, logging, mcp_auth as m\n"
        "logging.getLogger('mcp_auth').setLevel(logging.DEBUG)\n"
        "c = m.Client(sys.argv[1], redirect_handler=\"headless\")\n"
        "r = c.post_json({'jsonrpc': '2.0', 'id': 1, 'method': 'ping'})\n"
        "c.logout()\n"
        "print(r.status, r.authorizations)\n"
    )
    out = subprocess.run([python, "-c", code, demo.url], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "200 1"
    assert out.stderr == ""
