// bench.mjs: what a call through Node.js (mcp-auth-client, koffi) adds over the same call from C.
//
//   node bench.mjs C_BENCH_BINARY N
//
// Runs the C program (bench.c) and the same calls from Node in one run, then prints per-call
// times and the Node/C ratio:
// - parse_www_authenticate: a pure function, called synchronously on the main thread
//   (koffi call + string decode + mcpauth_string_free; then the package's parseWwwAuthenticate,
//   which also parses the JSON).
// - current_token: a client call without I/O. From Node it is a promise: the call is posted
//   to the client's worker thread and the answer posted back (sequential awaits), and, to
//   separate the two costs, the same koffi call in a loop on the worker thread.

import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { McpAuthClient, parseWwwAuthenticate } from '../../bindings/node/index.js';
import { koffi, openLibrary, declarePure } from '../../bindings/node/lib/native.js';

const [cBench, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 100000);
const serverUrl = 'http://127.0.0.1:9/mcp'; // never contacted: no call below does I/O
const challenge =
  'Bearer error="insufficient_scope", scope="mcp:read mcp:write", ' +
  'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"';

const c = JSON.parse(execFileSync(cBench, [String(n), serverUrl], { encoding: 'utf8' }));

function perCall(iterations, fn) {
  fn(Math.min(1000, iterations)); // warm-up
  const t0 = performance.now();
  fn(iterations);
  return ((performance.now() - t0) * 1e6) / iterations;
}

const { lib } = openLibrary();
const api = declarePure(lib);
const k = koffi();
const rawParse = perCall(n, (m) => {
  const out = [null];
  for (let i = 0; i < m; i++) {
    api.parseWwwAuthenticate(challenge, out);
    k.decode(out[0], 'char', -1);
    api.stringFree(out[0]);
  }
});
const apiParse = perCall(n, (m) => {
  for (let i = 0; i < m; i++) parseWwwAuthenticate(challenge);
});

const client = await McpAuthClient.create({ serverUrl, threads: 1 });
await client.benchCurrentToken(1000);
let t0 = performance.now();
await client.benchCurrentToken(n);
const laneToken = ((performance.now() - t0) * 1e6) / n;
const asyncN = Math.max(1000, Math.floor(n / 10));
for (let i = 0; i < 1000; i++) await client.currentToken();
t0 = performance.now();
for (let i = 0; i < asyncN; i++) await client.currentToken();
const asyncToken = ((performance.now() - t0) * 1e6) / asyncN;
await client.close();

const rows = [
  ['parse_www_authenticate', 'C', c.parse_www_authenticate_ns, c.parse_www_authenticate_ns],
  ['parse_www_authenticate', 'Node, koffi sync call', rawParse, c.parse_www_authenticate_ns],
  ['parse_www_authenticate', 'Node, parseWwwAuthenticate() (+JSON.parse)', apiParse, c.parse_www_authenticate_ns],
  ['current_token', 'C', c.current_token_ns, c.current_token_ns],
  ['current_token', 'Node, koffi sync call on the worker thread', laneToken, c.current_token_ns],
  ['current_token', 'Node, await client.currentToken() (worker round trip)', asyncToken, c.current_token_ns],
];
console.log(`libmcpauth through Node.js ${process.version} (koffi ${k.version}), N = ${n} (async: ${asyncN})\n`);
console.log(`| call | from | ns/call | vs C | added |`);
console.log(`|---|---|---:|---:|---:|`);
for (const [call, from, ns, base] of rows) {
  console.log(`| ${call} | ${from} | ${ns.toFixed(0)} | ${(ns / base).toFixed(2)}x | ${(ns - base).toFixed(0)} ns |`);
}
