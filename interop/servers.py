"""The server sets a cell can start (harness.SERVER_SETS): each returns the cell and its servers,
the authorization server first (Cell.restart_as restarts it)."""

from __future__ import annotations

from pathlib import Path

from harness import HERE, VENV_PY, Cell, Scenario, Server, free_port, server_set

TS_EXAMPLE = HERE / "node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js"


@server_set("oidc")
def oidc(d: Path, scenario: Scenario) -> tuple[Cell, list[Server]]:
    """node oidc-provider (oidc/server.mjs, flags from the scenario) + the Python SDK RS."""
    as_port, rs_port = free_port(), free_port()
    cell = Cell(d, f"http://127.0.0.1:{rs_port}/mcp", f"http://127.0.0.1:{as_port}")
    return cell, [
        Server("oidc-provider", ["node", "oidc/server.mjs", str(as_port), cell.resource, str(d / "as.jsonl"), *scenario.as_flags], as_port, d / "as.out"),
        Server("mcp (Python SDK) resource server", [str(VENV_PY), "rs/server.py", str(rs_port), cell.issuer, str(d / "rs.jsonl"), *scenario.rs_args], rs_port, d / "rs.out"),
    ]


@server_set("ts")
def ts(d: Path, scenario: Scenario) -> tuple[Cell, list[Server]]:
    """The TypeScript SDK's example server with its demo AS (one process, two ports)."""
    as_port, rs_port = free_port(), free_port()
    # The example builds its URLs on `localhost`.
    cell = Cell(d, f"http://localhost:{rs_port}/mcp", f"http://localhost:{as_port}/")
    cell.tool = {"name": "greet", "arguments": {"name": "interop"}}
    return cell, [
        Server(
            "TypeScript SDK example server (--oauth)",
            ["node", "--import", "./ts/log-requests.mjs", str(TS_EXAMPLE), "--oauth"],
            rs_port,
            d / "ts.out",
            env={"MCP_PORT": str(rs_port), "MCP_AUTH_PORT": str(as_port), "INTEROP_HTTP_LOG": str(d / "http.jsonl")},
            also_ports=[as_port],
        )
    ]
