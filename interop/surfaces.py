"""The client columns (harness.SURFACES): each runs one host on one surface of mcp-auth and
returns (exit status, output). The verdict comes from the servers' records, not from here."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

from harness import CELL_DEADLINE, HERE, PAUSE, ROOT, Cell, NotApplicable, Scenario, surface

CLI = os.environ.get("INTEROP_CLI", str(ROOT / "bindings" / "python" / ".venv" / "bin" / "mcp-auth"))
RUST_CLIENT = os.environ.get("INTEROP_RUST_CLIENT", str(ROOT / "target" / "debug" / "mcp-auth-interop-client"))
C_CLIENT = os.environ.get("INTEROP_C_CLIENT", str(ROOT / "target" / "interop" / "client-c" / "client"))
# The Python package's venv (mcp 2.3.0 and mcp_auth, built by python-develop): the SDK host.
SDK_PYTHON = os.environ.get("INTEROP_SDK_PYTHON", str(ROOT / "bindings" / "python" / ".venv" / "bin" / "python"))
SDK_HOST = str(HERE / "client-py" / "host.py")
NODE_HOST = str(HERE / "client-node" / "host.mjs")
NODE_LIB = os.environ.get("INTEROP_NODE_LIB", str(ROOT / "target" / "debug" / "libmcpauth.so"))


def run_host(argv: list[str], cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """A host program taking OPTIONS_JSON CALLS PAUSE TOOL_JSON (client-rs, client-c)."""
    argv = [*argv, json.dumps(scenario.options(cell)), str(scenario.calls), str(PAUSE), json.dumps(cell.tool)]
    r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CELL_DEADLINE)
    if not scenario.forget or r.returncode != 0:
        return r.returncode, r.stdout + r.stderr
    # A second host process on the same credential file, after the AS forgot everything and
    # the token expired: the stored refresh token and registration are both unknown now.
    cell.restart_as()
    time.sleep(PAUSE)  # let the stored token expire (the scenario, not synchronisation)
    r2 = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CELL_DEADLINE)
    return r2.returncode, r.stdout + r.stderr + "--- after the AS restarted ---\n" + r2.stdout + r2.stderr


@surface("rust")
def run_rust(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The core crate, through interop/client-rs (options JSON, initialize, N tool calls)."""
    return run_host([RUST_CLIENT], cell, scenario, env)


@surface("c")
def run_c(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The C ABI, through interop/client-c/client.c on libmcpauth: the same options JSON to
    `mcpauth_client_config_new`, `mcpauth_client_post_json` / `mcpauth_client_send`."""
    return run_host([C_CLIENT], cell, scenario, env)


@surface("node")
def run_node(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The Node package (bindings/node, koffi over libmcpauth), through
    interop/client-node/host.mjs: the same options JSON as the Rust and C columns."""
    return run_host(["node", NODE_HOST], cell, scenario, dict(env, MCPAUTH_LIB=NODE_LIB))


def mcp_call(resource: str, token: str, tool: dict[str, object]) -> str:
    """What a host does with the CLI's token: initialize, then tools/call."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "Authorization": f"Bearer {token}",
        "MCP-Protocol-Version": "2025-11-25",
    }

    def post(body: dict[str, object], session: str | None) -> tuple[str | None, str]:
        h = dict(headers, **({"Mcp-Session-Id": session} if session else {}))
        req = urllib.request.Request(resource, json.dumps(body).encode(), h)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers.get("mcp-session-id"), r.read().decode()

    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cli-host", "version": "0"}}
    session, _ = post({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}, None)
    post({"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    _, result = post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": tool}, session)
    return result


def cli_applies(cell: Cell, scenario: Scenario) -> None:
    if scenario.options(cell).get("grant") == "client_credentials":
        raise NotApplicable("the CLI's login is the interactive authorization code flow")


@surface("python-cli", applies=cli_applies)
def run_cli(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The Python package's CLI as a shell host uses it: `mcp-auth login` once (the browser),
    then `mcp-auth token` before each call (refreshing when needed); when `token` says "not
    logged in" (exit 7: nothing left to refresh with), `mcp-auth login` again."""
    env = dict(env, MCP_AUTH_HOME=str(cell.dir / "home"))
    out: list[str] = []

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [CLI, *args, *scenario.cli_args, cell.resource]
        for k, v in cell.extra.items():  # e.g. {redirect_port} from the server set
            argv = [a.replace("{" + k + "}", str(v)) for a in argv]
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=CELL_DEADLINE)
        out.append(f"$ mcp-auth {' '.join(args)} -> {r.returncode}\n{r.stderr}")
        return r

    wait = "20" if scenario.forget else "60"
    if (r := cli("login", "--wait", "60", *scenario.cli_login_args)).returncode != 0:
        return r.returncode, "\n".join(out)
    if scenario.forget:
        if (r := cli("token")).returncode != 0:
            return r.returncode, "\n".join(out)
        out.append(mcp_call(cell.resource, r.stdout.strip(), cell.tool))
        cell.restart_as()
        time.sleep(PAUSE)  # let the stored token expire (the scenario, not synchronisation)
    for i in range(scenario.calls):
        if i:
            time.sleep(PAUSE)  # let the token expire
        r = cli("token")
        if r.returncode in (5, 7):  # `mcp-auth token || mcp-auth login`
            if (r := cli("login", "--wait", wait, *scenario.cli_login_args)).returncode != 0:
                return r.returncode, "\n".join(out)
            r = cli("token")
        if r.returncode != 0:
            return r.returncode, "\n".join(out)
        try:
            out.append(mcp_call(cell.resource, r.stdout.strip(), cell.tool))
        except OSError as e:
            out.append(f"tool call failed: {e}")
            return 1, "\n".join(out)
    return 0, "\n".join(out)


@surface("python-sdk-dropin")
def run_sdk_dropin(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The official `mcp` SDK's streamable-HTTP client with `mcp_auth.sdk.OAuthClientProvider`
    (client-py/host.py: the SDK's TokenStorage, redirect and callback handlers)."""
    return run_host([SDK_PYTHON, SDK_HOST, "dropin"], cell, scenario, env)


def reference_applies(cell: Cell, scenario: Scenario) -> None:
    options = scenario.options(cell)
    if scenario.expect_failure is not None:
        raise NotApplicable("the cell checks that mcp-auth's error names the fix")
    if options.get("grant", "authorization_code") not in ("authorization_code", "client_credentials"):
        raise NotApplicable(f"the SDK client has no {options['grant']} grant")


@surface("python-sdk-reference", applies=reference_applies)
def run_sdk_reference(cell: Cell, scenario: Scenario, env: dict[str, str]) -> tuple[int, str]:
    """The same host with the SDK's own `OAuthClientProvider` (and its client_credentials /
    private_key_jwt extensions): the reference, not mcp-auth. Its failures are the SDK's
    (scenarios/reference.py)."""
    return run_host([SDK_PYTHON, SDK_HOST, "reference"], cell, scenario, env)
