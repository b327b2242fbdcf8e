// The whole flow through the package against the demo server, counted from the server's side.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpAuthClient } from '../index.js';
import { testServerPerFile, rpc, initialize } from './harness.mjs';

let server;
const track = testServerPerFile((s) => {
  server = s;
});

test('cold start: 401, discovery, registration, PKCE authorization, token, then MCP calls', async () => {
  await server.cmd('reset');
  const steps = [];
  const client = track(await McpAuthClient.create({
    serverUrl: server.url,
    clientName: 'mcp-auth-client test',
    redirect: { type: 'headless' }, // the demo server approves without a login page
    onTrace: (e) => steps.push(e.step),
  }));
  const init = await client.postJson(initialize);
  assert.equal(init.status, 200);
  assert.equal(init.authorizations, 1);
  assert.equal(init.challenge?.status, 401, 'the 401 that started the flow is kept on the response');
  assert.equal(init.message.result.protocolVersion, '2025-11-25');

  const call = await client.postJson(rpc('tools/call', { name: 'echo', arguments: { text: 'hello' } }, 2));
  assert.equal(call.status, 200);
  assert.equal(call.authorizations, 0);
  assert.equal(call.message.result.content[0].text, 'hello');
  assert.equal(call.json().id, 2);
  assert.match(call.header('Content-Type'), /json|event-stream/);

  // The server saw one registration, one authorization, one code exchange, and both MCP calls
  // (plus the first, refused one).
  assert.equal(await server.count('/register'), 1);
  assert.equal(await server.count('/authorize'), 1);
  assert.equal(await server.grants('authorization_code'), 1);
  assert.equal(await server.count(server.mcpPath), 3);
  assert.equal(await client.grantedScope(), 'mcp:read mcp:write');
  assert.equal(await client.resourceKey(), server.url);
  assert.ok(steps.length >= 5, `trace events: ${steps.join(', ')}`);
  assert.ok(steps.some((s) => /token/.test(s)), `a token step among ${steps.join(', ')}`);
});

test('an expired token is refreshed once, without a new authorization', async () => {
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  const token = await client.accessToken();
  assert.equal(typeof token, 'string');
  await server.cmd('reset');
  await server.cmd('expire');
  const r = await client.postJson(rpc('tools/list'));
  assert.equal(r.status, 200);
  assert.equal(r.authorizations, 1);
  assert.equal(await server.grants('refresh_token'), 1);
  assert.equal(await server.grants('authorization_code'), 0);
  assert.equal(await server.count('/authorize'), 0);
  const refreshed = await client.currentToken();
  assert.notEqual(refreshed, token);
});

test('many promises share one client: one authorization, several worker threads', async () => {
  await server.cmd('reset');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, threads: 4 }));
  const n = 24;
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) => client.postJson(rpc('tools/list', {}, i + 1))),
  );
  assert.deepEqual(
    responses.map((r) => r.status),
    Array(n).fill(200),
  );
  assert.deepEqual(
    responses.map((r) => r.message.id),
    Array.from({ length: n }, (_, i) => i + 1),
  );
  assert.equal(responses.reduce((s, r) => s + r.authorizations, 0), 1);
  assert.equal(await server.grants('authorization_code'), 1);
  assert.equal(await server.count('/register'), 1);
  assert.equal(client.threadCount, 4);
});

test('the event loop keeps running while the server delays a flow', async () => {
  // The PRM document, dripped one byte every 5 ms by the server: the cold flow below takes at
  // least (head + body) x 5 ms, during which the main thread must stay free.
  const prm = await (await fetch(server.info.prm_url)).text();
  await server.cmd('reset');
  await server.cmd(`drip ${server.prmPath} 1 5 200 application/json ${prm}`);
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));

  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  let done = false;
  const flow = client.postJson(initialize).finally(() => {
    done = true;
  });
  // Other I/O on this thread completes while the flow is in progress: a control command over
  // the test server's stdin pipe, then an HTTP request from this thread.
  while ((await server.count(server.prmPath)) === 0) {
    assert.equal(done, false);
  }
  const meanwhile = await fetch(server.info.prm_url.replace(server.prmPath, '/.well-known/oauth-authorization-server'));
  assert.equal(meanwhile.status, 200);
  assert.equal(done, false, 'the HTTP request made during the flow finished first');
  const ticksDuringFlow = ticks;
  const r = await flow;
  clearInterval(timer);
  assert.equal(r.status, 200);
  assert.equal(r.authorizations, 1);
  assert.ok(ticksDuringFlow >= 3, `timer ticks while the flow ran: ${ticksDuringFlow}`);
  assert.equal(await server.count(server.prmPath), 1);
  await server.cmd('clear');
});

test('the host handles the redirect itself (async callback on the main thread)', async () => {
  await server.cmd('reset');
  const seen = [];
  const client = track(await McpAuthClient.create({
    serverUrl: server.url,
    redirect: {
      type: 'callback',
      redirectUri: 'http://127.0.0.1:9/callback',
      async handler(authorizationUrl) {
        seen.push(authorizationUrl);
        // What a browser would do: follow the authorization URL; the demo server approves at once.
        const res = await fetch(authorizationUrl, { redirect: 'manual' });
        return res.headers.get('location');
      },
    },
  }));
  assert.equal(await client.redirectUri(), 'http://127.0.0.1:9/callback');
  const [r, ...more] = await Promise.all([
    client.postJson(initialize),
    client.postJson(rpc('tools/list', {}, 2)),
    client.postJson(rpc('tools/list', {}, 3)),
  ]);
  assert.equal(r.status, 200);
  assert.deepEqual(more.map((m) => m.status), [200, 200]);
  assert.equal(seen.length, 1, 'one authorization for the three calls');
  assert.equal(client.threadCount, 1, 'callbacks bind the client to the lane that registered them');
  const url = new URL(seen[0]);
  assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(url.searchParams.get('redirect_uri'), 'http://127.0.0.1:9/callback');
  assert.equal(await server.count('/authorize'), 1);
  assert.equal(await server.grants('authorization_code'), 1);
});

test('send, probe, discover, authorizeAfter and logout', async () => {
  await server.cmd('reset');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  const probe = await client.probe();
  assert.equal(probe.status, 401);
  assert.equal(probe.challenge.bearer.resource_metadata, server.info.prm_url);
  const found = await client.discover();
  assert.equal(found.issuer, server.info.issuer);
  assert.equal(found.token_endpoint, server.info.token_endpoint);
  assert.equal(await client.currentToken(), null, 'no token yet, and currentToken never authorizes');
  assert.equal(await server.count('/authorize'), 0);

  const r = await client.send({
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
    body: new TextEncoder().encode(JSON.stringify(rpc('tools/call', { name: 'echo', arguments: { text: 'bytes' } }, 7))),
  });
  assert.equal(r.status, 200);
  assert.equal(r.message.result.content[0].text, 'bytes');
  const token = await client.currentToken();
  assert.equal(typeof token, 'string');

  // The host sent a request itself and the server refused the token: a new one to retry with.
  await server.cmd('revoke');
  const retry = await client.authorizeAfter({
    status: 401,
    wwwAuthenticate: [`Bearer error="invalid_token", resource_metadata="${server.info.prm_url}"`],
    rejectedToken: token,
  });
  assert.equal(typeof retry, 'string');
  assert.notEqual(retry, token);
  assert.equal(await server.grants('authorization_code'), 2);

  const before = await server.cmd('revocations');
  assert.deepEqual(await client.logout(), { status: 'revoked' });
  const after = await server.cmd('revocations');
  assert.equal(after.refresh_tokens - before.refresh_tokens, 1, 'the refresh token was revoked at the AS');
  assert.equal(after.requests - before.requests, 2, 'refresh then access token');
  assert.equal(await client.currentToken(), null);
  assert.equal(await client.grantedScope(), null);
  assert.deepEqual(await client.logout(), { status: 'no_tokens' });
  assert.equal(await client.forgetClient(), server.info.issuer);
});

test('the host keeps tokens in its own (async) store; a second client reuses them', async () => {
  await server.cmd('reset');
  const data = new Map();
  const calls = [];
  const store = {
    async get(kind, key) {
      calls.push(`get ${kind}`);
      return data.get(`${kind} ${key}`) ?? null;
    },
    async set(kind, key, value) {
      calls.push(`set ${kind}`);
      JSON.parse(value);
      data.set(`${kind} ${key}`, value);
    },
    async remove(kind, key) {
      calls.push(`remove ${kind}`);
      data.delete(`${kind} ${key}`);
    },
  };
  const first = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store } }));
  assert.equal((await first.postJson(initialize)).status, 200);
  assert.ok(calls.includes('set tokens'), calls.join(', '));
  assert.ok(calls.includes('set client_info'), calls.join(', '));
  assert.ok(data.has(`tokens ${server.url}`));

  const second = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store } }));
  const r = await second.postJson(rpc('tools/list'));
  assert.equal(r.status, 200);
  assert.equal(r.authorizations, 0, 'the stored token was used');
  assert.equal(await server.grants('authorization_code'), 1);

  await second.logout();
  assert.ok(calls.includes('remove tokens'));
  assert.ok(!data.has(`tokens ${server.url}`));
});
