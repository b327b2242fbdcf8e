// The Node column of the interop suite (interop/run.py): an MCP host on the mcp-auth-client
// package (bindings/node, over libmcpauth).
//
//   node host.mjs OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON
//
// The options JSON is the core's (what the Rust and C columns take); the host turns its member
// names into the package's camelCase options (the package turns them back), keeping as written
// the members whose names are data: client metadata and the overrides' extra parameters. Then
// `initialize`, `notifications/initialized` and CALLS times `tools/call`, pausing PAUSE_SECS so
// the token expires in between, with the session id the server assigned. A 404 for the session
// (MCP streamable HTTP: the server ended it; the Python SDK does when the client registration
// changed) starts a new session and repeats the call once. The suite judges from the servers'
// records, not from what this prints.

import { McpAuthClient } from '../../bindings/node/index.js';

const PROTOCOL_VERSION = '2025-11-25';
/** Members whose own keys are data (parameter or metadata names), not option names. */
const AS_WRITTEN = new Set(['client_metadata', 'authorization_params', 'token_params']);

function camel(key) {
  return key.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function camelize(value) {
  if (Array.isArray(value)) return value.map(camelize);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [camel(k), AS_WRITTEN.has(k) ? v : camelize(v)]),
    );
  }
  return value;
}

const pause = (secs) => new Promise((resolve) => setTimeout(resolve, secs * 1000));

async function main() {
  const [optionsJson, callsArg, pauseArg, toolJson] = process.argv.slice(2);
  if (toolJson === undefined) {
    console.error('usage: node host.mjs OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON');
    return 2;
  }
  const calls = Number(callsArg);
  const tool = JSON.parse(toolJson);
  const client = await McpAuthClient.create({
    ...camelize(JSON.parse(optionsJson)),
    onTrace: (event) => console.error(`trace: ${JSON.stringify(event)}`),
  });
  let session = null;
  const post = (message) => {
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': PROTOCOL_VERSION,
    };
    if (session) headers['Mcp-Session-Id'] = session;
    return client.send({ method: 'POST', headers, body: JSON.stringify(message) });
  };
  const rpc = async (method, params, id) => {
    const message = id === undefined ? { jsonrpc: '2.0', method, params } : { jsonrpc: '2.0', id, method, params };
    let r = await post(message);
    if (r.status === 404 && session) {
      console.error(`interop node host: ${method} answered 404: the session is gone, starting a new one`);
      session = null;
      await initialize();
      r = await post(message);
    }
    session = r.header('mcp-session-id') ?? session;
    if (!r.ok) throw new Error(`${method} answered ${r.status}`);
    return r.message;
  };
  const initialize = async () => {
    await rpc(
      'initialize',
      { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: 'mcp-auth-interop-node', version: '0' } },
      1,
    );
    await rpc('notifications/initialized', {});
  };
  try {
    await initialize();
    for (let i = 0; i < calls; i++) {
      if (i > 0) await pause(Number(pauseArg));
      const params = Array.isArray(tool) ? tool[Math.min(i, tool.length - 1)] : tool; // a list: one per call
      console.log(`call ${i}: ${JSON.stringify(await rpc('tools/call', params, 10 + i))}`);
    }
    return 0;
  } catch (e) {
    console.log(`error: ${e.name}: ${e.message}`);
    console.error(`interop node host: ${e.stack ?? e}`);
    return 1;
  } finally {
    await client.close();
  }
}

process.exitCode = await main();
