// demo.mjs: the MCP authorization flow from Node.js, through libmcpauth (koffi FFI).
//
//   node demo.mjs SERVER_URL
//
// Loads libmcpauth.so ($MCPAUTH_LIB, default ../../target/debug/libmcpauth.so), builds a client
// with a trace callback, runs initialize (a cold start: 401, discovery, registration, PKCE
// authorization, token), tools/list and an authorized tools/call. Exits 0 when the tool answers.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

const here = path.dirname(fileURLToPath(import.meta.url));
const libPath = process.env.MCPAUTH_LIB ?? path.join(here, '../../target/debug/libmcpauth.so');
const serverUrl = process.argv[2];
if (!serverUrl) {
  console.error('usage: node demo.mjs SERVER_URL');
  process.exit(2);
}

// --- Bindings: the subset of include/mcpauth.h this demo uses. ---
const lib = koffi.load(libPath);
koffi.opaque('mcpauth_client_config');
koffi.opaque('mcpauth_client');
koffi.opaque('mcpauth_response');
const traceFn = koffi.proto('void mcpauth_trace_fn(void *userdata, const char *event_json)');

const api = {
  version: lib.func('const char *mcpauth_version(void)'),
  abiVersion: lib.func('uint32_t mcpauth_abi_version(void)'),
  statusName: lib.func('const char *mcpauth_status_name(int32_t status)'),
  lastErrorJson: lib.func('const char *mcpauth_last_error_json(void)'),
  stringFree: lib.func('void mcpauth_string_free(void *s)'),
  configNew: lib.func('int32_t mcpauth_client_config_new(const char *options_json, _Out_ mcpauth_client_config **out)'),
  configSetTrace: lib.func('int32_t mcpauth_client_config_set_trace(mcpauth_client_config *config, mcpauth_trace_fn *observer, void *userdata)'),
  configFree: lib.func('void mcpauth_client_config_free(mcpauth_client_config *config)'),
  clientNew: lib.func('int32_t mcpauth_client_new(const mcpauth_client_config *config, _Out_ mcpauth_client **out)'),
  clientFree: lib.func('void mcpauth_client_free(mcpauth_client *client)'),
  postJson: lib.func('int32_t mcpauth_client_post_json(const mcpauth_client *client, const char *json_body, _Out_ mcpauth_response **out)'),
  grantedScope: lib.func('int32_t mcpauth_client_granted_scope(const mcpauth_client *client, _Out_ void **out)'),
  responseStatus: lib.func('int32_t mcpauth_response_status(const mcpauth_response *response, _Out_ uint16_t *out)'),
  responseBody: lib.func('int32_t mcpauth_response_body(const mcpauth_response *response, _Out_ void **data, _Out_ size_t *len)'),
  responseAuthorizations: lib.func('int32_t mcpauth_response_authorizations(const mcpauth_response *response, _Out_ uint32_t *out)'),
  responseFree: lib.func('void mcpauth_response_free(mcpauth_response *response)'),
};

const ABI_VERSION = 1;

class McpAuthError extends Error {
  constructor(what, status) {
    const details = JSON.parse(api.lastErrorJson() ?? '{}');
    super(`${what} failed: ${api.statusName(status)} (${status}): ${details.message ?? ''}`);
    this.status = status;
    this.details = details;
  }
}

function check(what, status) {
  if (status !== 0) throw new McpAuthError(what, status);
}

/** A library-owned `char *` out-parameter as a JS string (freed, zeroized). */
function takeString(ptr) {
  if (ptr === null) return null;
  const s = koffi.decode(ptr, 'char', -1);
  api.stringFree(ptr);
  return s;
}

// --- The demo. ---
if (api.abiVersion() !== ABI_VERSION) throw new Error('libmcpauth ABI mismatch');
console.log(`libmcpauth ${api.version()} (Node.js ${process.version}, koffi)`);
console.log(`demo server: ${serverUrl}\n`);

const onTrace = koffi.register((_userdata, eventJson) => {
  const e = JSON.parse(eventJson);
  const mark = { ok: 'ok  ', fallback: 'next' }[e.outcome] ?? 'FAIL';
  const http = e.method && e.url ? ` ${e.method} ${e.url}` : '';
  const status = e.status != null ? ` -> ${e.status}` : '';
  console.log(`  [${mark}] ${e.step.padEnd(30)}${http}${status} (${(e.duration / 1000).toFixed(2)} ms)`);
  console.log(`         ${e.detail}`);
}, koffi.pointer(traceFn));

const configOut = [null];
check('mcpauth_client_config_new', api.configNew(JSON.stringify({
  server_url: serverUrl,
  client_name: 'mcp-auth Node.js demo',
  timeout_ms: 10000,
}), configOut));
const config = configOut[0];
const clientOut = [null];
try {
  check('mcpauth_client_config_set_trace', api.configSetTrace(config, onTrace, null));
  check('mcpauth_client_new', api.clientNew(config, clientOut));
} finally {
  api.configFree(config);
}
const client = clientOut[0];

function call(method, params, id) {
  console.log(`-> ${method}`);
  const out = [null];
  check(method, api.postJson(client, JSON.stringify({ jsonrpc: '2.0', id, method, params }), out));
  const response = out[0];
  try {
    const status = [0];
    const authorizations = [0];
    const data = [null];
    const len = [0];
    check('mcpauth_response_status', api.responseStatus(response, status));
    check('mcpauth_response_authorizations', api.responseAuthorizations(response, authorizations));
    check('mcpauth_response_body', api.responseBody(response, data, len));
    const body = JSON.parse(koffi.decode(data[0], 'char', Number(len[0])));
    console.log(`<- ${status[0]} ${JSON.stringify(body.result)} (authorizations during this request: ${authorizations[0]})\n`);
    if (status[0] !== 200) throw new Error(`${method}: HTTP ${status[0]}`);
    return body;
  } finally {
    api.responseFree(response);
  }
}

let ok = false;
try {
  call('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'mcp-auth-node-demo', version: api.version() },
  }, 1);
  call('tools/list', {}, 2);
  const result = call('tools/call', { name: 'echo', arguments: { text: 'hello from mcp-auth' } }, 3);
  const text = result.result?.content?.[0]?.text;
  console.log(`tools/call result: ${text}`);
  const scope = [null];
  check('mcpauth_client_granted_scope', api.grantedScope(client, scope));
  console.log(`granted scope: ${takeString(scope[0]) ?? '(none)'}`);
  ok = text === 'hello from mcp-auth';
} catch (e) {
  console.error(e.message);
  if (e.details?.challenge) console.error(`challenge: ${JSON.stringify(e.details.challenge)}`);
} finally {
  api.clientFree(client);
  koffi.unregister(onTrace);
}
if (!ok) process.exit(1);
console.log('node demo: ok');
