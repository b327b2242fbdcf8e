// demo.mjs: the MCP authorization flow from Node.js with the mcp-auth-client package
// (bindings/node, over libmcpauth).
//
//   node demo.mjs SERVER_URL
//
// Finds libmcpauth through $MCPAUTH_LIB (else the system loader), builds a client with a trace
// observer, runs initialize (a cold start: 401, discovery, registration, PKCE authorization,
// token), tools/list and an authorized tools/call while a timer keeps ticking on the event loop.
// Exits 0 when the tool answers.

import { McpAuthClient, McpAuthError, version, libraryPath } from 'mcp-auth-client';

const serverUrl = process.argv[2];
if (!serverUrl) {
  console.error('usage: node demo.mjs SERVER_URL');
  process.exit(2);
}

console.log(`libmcpauth ${version()} from ${libraryPath()} (Node.js ${process.version})`);
console.log(`demo server: ${serverUrl}\n`);

const client = await McpAuthClient.create({
  serverUrl,
  clientName: 'mcp-auth Node.js demo',
  timeoutMs: 10_000,
  redirect: { type: 'headless' }, // the demo server approves without a login page
  onTrace(e) {
    const mark = { ok: 'ok  ', fallback: 'next' }[e.outcome] ?? 'FAIL';
    const http = e.method && e.url ? ` ${e.method} ${e.url}` : '';
    const status = e.status != null ? ` -> ${e.status}` : '';
    console.log(`  [${mark}] ${e.step.padEnd(30)}${http}${status} (${(e.duration / 1000).toFixed(2)} ms)`);
    console.log(`         ${e.detail}`);
  },
});

// The native calls run on a worker thread: this timer keeps ticking during the flow.
let ticks = 0;
const timer = setInterval(() => ticks++, 1);

async function call(method, params, id) {
  console.log(`-> ${method}`);
  const r = await client.postJson({ jsonrpc: '2.0', id, method, params });
  console.log(`<- ${r.status} ${JSON.stringify(r.message?.result)} (authorizations during this request: ${r.authorizations})\n`);
  if (r.status !== 200) throw new Error(`${method}: HTTP ${r.status}`);
  return r.message;
}

let ok = false;
try {
  await call('initialize', {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'mcp-auth-node-demo', version: version() },
  }, 1);
  await call('tools/list', {}, 2);
  const result = await call('tools/call', { name: 'echo', arguments: { text: 'hello from mcp-auth' } }, 3);
  const text = result?.result?.content?.[0]?.text;
  console.log(`tools/call result: ${text}`);
  console.log(`granted scope: ${(await client.grantedScope()) ?? '(none)'}`);
  console.log(`event loop timer ticks during the calls: ${ticks}`);
  ok = text === 'hello from mcp-auth';
} catch (e) {
  if (e instanceof McpAuthError) {
    console.error(`${e.kind} (${e.status}): ${e.message}`);
    if (e.challenge) console.error(`challenge: ${JSON.stringify(e.challenge)}`);
  } else {
    console.error(e);
  }
} finally {
  clearInterval(timer);
  await client.close();
}
if (!ok) process.exit(1);
console.log('node demo: ok');
