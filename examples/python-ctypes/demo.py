#!/usr/bin/env python3
"""The MCP authorization flow from Python, through libmcpauth with the standard `ctypes` module.

    python3 demo.py SERVER_URL

Loads libmcpauth.so ($MCPAUTH_LIB, default ../../target/debug/libmcpauth.so), builds a client
whose token storage is a Python dict (the storage callbacks) and whose trace goes to stdout,
then runs initialize (a cold start: 401, discovery, registration, PKCE authorization, token),
tools/list and an authorized tools/call. Exits 0 when the tool answers.

(The `mcp_auth` Python package is the idiomatic binding; this script shows the bare C ABI.)
"""

import ctypes
import json
import os
import sys
from ctypes import (
    CFUNCTYPE, POINTER, byref, c_bool, c_char_p, c_int32, c_size_t, c_uint16, c_uint32,
    c_void_p,
)

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.environ.get("MCPAUTH_LIB", os.path.join(HERE, "..", "..", "target", "debug", "libmcpauth.so"))
ABI_VERSION = 1
OK = 0

lib = ctypes.CDLL(LIB)


def fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# Callback types (include/mcpauth.h). `void *userdata` first; strings borrowed for the call.
STORAGE_GET = CFUNCTYPE(c_int32, c_void_p, c_char_p, c_char_p, c_void_p)
STORAGE_SET = CFUNCTYPE(c_int32, c_void_p, c_char_p, c_char_p, c_char_p, c_void_p)
STORAGE_REMOVE = CFUNCTYPE(c_int32, c_void_p, c_char_p, c_char_p, c_void_p)
TRACE = CFUNCTYPE(None, c_void_p, c_char_p)

version = fn("mcpauth_version", c_char_p)
abi_version = fn("mcpauth_abi_version", c_uint32)
status_name = fn("mcpauth_status_name", c_char_p, c_int32)
last_error_json = fn("mcpauth_last_error_json", c_char_p)
string_free = fn("mcpauth_string_free", None, c_void_p)
reply_set_value = fn("mcpauth_reply_set_value", c_int32, c_void_p, c_char_p)
reply_set_error = fn("mcpauth_reply_set_error", c_int32, c_void_p, c_char_p)
config_new = fn("mcpauth_client_config_new", c_int32, c_char_p, POINTER(c_void_p))
config_set_storage = fn("mcpauth_client_config_set_storage", c_int32, c_void_p, STORAGE_GET,
                        STORAGE_SET, STORAGE_REMOVE, c_void_p)
config_set_trace = fn("mcpauth_client_config_set_trace", c_int32, c_void_p, TRACE, c_void_p)
config_free = fn("mcpauth_client_config_free", None, c_void_p)
client_new = fn("mcpauth_client_new", c_int32, c_void_p, POINTER(c_void_p))
client_free = fn("mcpauth_client_free", None, c_void_p)
post_json = fn("mcpauth_client_post_json", c_int32, c_void_p, c_char_p, POINTER(c_void_p))
granted_scope = fn("mcpauth_client_granted_scope", c_int32, c_void_p, POINTER(c_void_p))
response_status = fn("mcpauth_response_status", c_int32, c_void_p, POINTER(c_uint16))
response_body = fn("mcpauth_response_body", c_int32, c_void_p, POINTER(c_void_p), POINTER(c_size_t))
response_authorizations = fn("mcpauth_response_authorizations", c_int32, c_void_p, POINTER(c_uint32))
response_free = fn("mcpauth_response_free", None, c_void_p)
is_loopback_url = fn("mcpauth_is_loopback_url", c_int32, c_char_p, POINTER(c_bool))


class McpAuthError(Exception):
    def __init__(self, what, status):
        raw = last_error_json()
        self.details = json.loads(raw) if raw else {}
        self.status = status
        super().__init__(f"{what} failed: {status_name(status).decode()} ({status}): "
                         f"{self.details.get('message', '')}")


def check(what, status):
    if status != OK:
        raise McpAuthError(what, status)


def take_string(ptr):
    """A library-owned `char *` out-parameter as a Python str (the C copy is zeroized)."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode()
    finally:
        string_free(ptr)


# --- Host storage: a dict. Callbacks must never raise into C: catch and return non-zero. ---
store = {}
ops = {"get": 0, "set": 0, "remove": 0}


@STORAGE_GET
def storage_get(_userdata, kind, key, reply):
    try:
        ops["get"] += 1
        value = store.get((kind, key))
        if value is not None:
            check("mcpauth_reply_set_value", reply_set_value(reply, value))
        return 0
    except Exception as e:  # noqa: BLE001 - never unwind into C
        reply_set_error(reply, str(e).encode())
        return 1


@STORAGE_SET
def storage_set(_userdata, kind, key, value, _reply):
    ops["set"] += 1
    store[(kind, key)] = bytes(value)  # copy: the library zeroizes its buffer afterwards
    return 0


@STORAGE_REMOVE
def storage_remove(_userdata, kind, key, _reply):
    ops["remove"] += 1
    store.pop((kind, key), None)
    return 0


@TRACE
def on_trace(_userdata, event_json):
    e = json.loads(event_json)
    mark = {"ok": "ok  ", "fallback": "next"}.get(e["outcome"], "FAIL")
    http = f" {e['method']} {e['url']}" if e.get("method") and e.get("url") else ""
    status = f" -> {e['status']}" if e.get("status") is not None else ""
    print(f"  [{mark}] {e['step']:<30}{http}{status} ({e['duration'] / 1000:.2f} ms)")
    print(f"         {e['detail']}")


def main():
    if len(sys.argv) != 2:
        print("usage: demo.py SERVER_URL", file=sys.stderr)
        return 2
    server_url = sys.argv[1]
    if abi_version() != ABI_VERSION:
        raise SystemExit("libmcpauth ABI mismatch")
    print(f"libmcpauth {version().decode()} (Python {sys.version.split()[0]}, ctypes)")
    print(f"demo server: {server_url}\n")

    # A pure utility, to show the out-parameter convention.
    loopback = c_bool()
    check("mcpauth_is_loopback_url", is_loopback_url(server_url.encode(), byref(loopback)))

    options = {"server_url": server_url, "client_name": "mcp-auth Python ctypes demo",
               "timeout_ms": 10000,
               "redirect": {"type": "headless"}}  # the demo server approves without a login page
    config = c_void_p()
    check("mcpauth_client_config_new", config_new(json.dumps(options).encode(), byref(config)))
    client = c_void_p()
    try:
        check("mcpauth_client_config_set_storage",
              config_set_storage(config, storage_get, storage_set, storage_remove, None))
        check("mcpauth_client_config_set_trace", config_set_trace(config, on_trace, None))
        check("mcpauth_client_new", client_new(config, byref(client)))
    finally:
        config_free(config)

    def call(method, params, request_id):
        print(f"-> {method}")
        body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        response = c_void_p()
        check(method, post_json(client, body.encode(), byref(response)))
        try:
            status, authorizations = c_uint16(), c_uint32()
            data, length = c_void_p(), c_size_t()
            check("mcpauth_response_status", response_status(response, byref(status)))
            check("mcpauth_response_authorizations",
                  response_authorizations(response, byref(authorizations)))
            check("mcpauth_response_body", response_body(response, byref(data), byref(length)))
            result = json.loads(ctypes.string_at(data, length.value))
            print(f"<- {status.value} {json.dumps(result.get('result'), separators=(',', ':'))} "
                  f"(authorizations during this request: {authorizations.value})\n")
            if status.value != 200:
                raise RuntimeError(f"{method}: HTTP {status.value}")
            return result
        finally:
            response_free(response)

    try:
        call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                            "clientInfo": {"name": "mcp-auth-python-ctypes-demo", "version": "0"}}, 1)
        call("tools/list", {}, 2)
        result = call("tools/call", {"name": "echo", "arguments": {"text": "hello from mcp-auth"}}, 3)
        text = result["result"]["content"][0]["text"]
        print(f"tools/call result: {text}")
        scope = c_void_p()
        check("mcpauth_client_granted_scope", granted_scope(client, byref(scope)))
        print(f"granted scope: {take_string(scope) or '(none)'}")
        print(f"host storage: {ops['get']} gets, {ops['set']} sets, {ops['remove']} removes "
              f"(kinds: {', '.join(sorted({k.decode() for k, _ in store}))})")
    except McpAuthError as e:
        print(e, file=sys.stderr)
        if e.details.get("challenge"):
            print(f"challenge: {json.dumps(e.details['challenge'])}", file=sys.stderr)
        return 1
    finally:
        client_free(client)
    if text != "hello from mcp-auth" or not store:
        return 1
    print("python demo: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
