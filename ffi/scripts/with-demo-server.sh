#!/usr/bin/env bash
# Run a command against a freshly started loopback demo server.
#
#   ffi/scripts/with-demo-server.sh [--server PATH] [--topology NAME] -- COMMAND [ARGS...]
#
# Starts mcp-auth-demo-server on a free 127.0.0.1 port, replaces every "{url}" in ARGS with its
# MCP URL (also exported as MCP_DEMO_URL), runs COMMAND, stops the server, and exits with
# COMMAND's status. The server is stopped even if this script is interrupted: it runs with
# --exit-on-stdin-eof on a pipe that only this script holds.
set -euo pipefail

server=${MCPAUTH_DEMO_SERVER:-target/debug/mcp-auth-demo-server}
topology=default
while [[ $# -gt 0 ]]; do
    case $1 in
        --server) server=$2; shift 2 ;;
        --topology) topology=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: $0 [--server PATH] [--topology NAME] -- COMMAND [ARGS...]" >&2; exit 2 ;;
    esac
done
[[ $# -gt 0 ]] || { echo "$0: no command" >&2; exit 2; }
[[ -x $server ]] || { echo "$0: $server not found (cargo build -p mcp-auth-demo-server)" >&2; exit 2; }

coproc SERVER { exec "$server" --topology "$topology" --exit-on-stdin-eof 2>/dev/null; }
server_pid=$SERVER_PID
server_in=${SERVER[1]}
stop() {
    eval "exec ${server_in}>&-" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
}
trap stop EXIT

line=""
if ! read -r -t 60 line <&"${SERVER[0]}" || [[ $line != "listening on "* ]]; then
    echo "$0: the demo server did not start (got: '$line')" >&2
    exit 1
fi
url=${line#listening on }

args=()
for a in "$@"; do
    args+=("${a//\{url\}/$url}")
done
set +e
MCP_DEMO_URL=$url "${args[@]}"
rc=$?
set -e
exit $rc
