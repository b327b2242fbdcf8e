// bench.mjs: what a call through Node.js (mcp-auth-client, koffi) adds over the same call from C.
//
//   node bench.mjs C_BENCH_BINARY N
//
// Runs the C program (bench.c) and the same calls from Node in one run, then prints per-call
// times (best of 3 rounds each) and the Node/C ratio:
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

const ROUNDS = 3; // every figure is the best of ROUNDS runs (the machine may be shared)

const cRuns = Array.from({ length: ROUNDS }, () =>
  JSON.parse(execFileSync(cBench, [String(n), serverUrl], { encoding: 'utf8' })),
);
const c = {
  parse_www_authenticate_ns: Math.min(...cRuns.map((r) => r.parse_www_authenticate_ns)),
  current_token_ns: Math.min(...cRuns.map((r) => r.current_token_ns)),
};

function perCall(iterations, fn) {
  fn(Math.min(1000, iterations)); // warm-up
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    fn(iterations);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / iterations);
  }
  return best;
}

async function perCallAsync(iterations, fn) {
  await fn(Math.min(1000, iterations)); // warm-up
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    await fn(iterations);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / iterations);
  }
  return best;
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
const laneToken = await perCallAsync(n, (m) => client.benchCurrentToken(m));
const asyncN = Math.max(1000, Math.floor(n / 10));
const asyncToken = await perCallAsync(asyncN, async (m) => {
  for (let i = 0; i < m; i++) await client.currentToken();
});
await client.close();

const rows = [
  ['parse_www_authenticate', 'C', c.parse_www_authenticate_ns, c.parse_www_authenticate_ns],
  ['parse_www_authenticate', 'Node, koffi sync call', rawParse, c.parse_www_authenticate_ns],
  ['parse_www_authenticate', 'Node, parseWwwAuthenticate() (+JSON.parse)', apiParse, c.parse_www_authenticate_ns],
  ['current_token', 'C', c.current_token_ns, c.current_token_ns],
  ['current_token', 'Node, koffi sync call on the worker thread', laneToken, c.current_token_ns],
  ['current_token', 'Node, await client.currentToken() (worker round trip)', asyncToken, c.current_token_ns],
];
console.log(`libmcpauth through Node.js ${process.version} (koffi ${k.version}), N = ${n} (async: ${asyncN}), best of ${ROUNDS}\n`);
console.log(`| call | from | ns/call | vs C | added |`);
console.log(`|---|---|---:|---:|---:|`);
for (const [call, from, ns, base] of rows) {
  console.log(`| ${call} | ${from} | ${ns.toFixed(0)} | ${(ns / base).toFixed(2)}x | ${(ns - base).toFixed(0)} ns |`);
}
