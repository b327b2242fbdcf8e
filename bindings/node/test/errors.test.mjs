// Failures become McpAuthError with the C status as `kind`; secrets never reach messages;
// cancellation before the native call; library lookup; closing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import {
  McpAuthClient,
  McpAuthError,
  ClientClosedError,
  LibraryNotFoundError,
  libraryPath,
  parseWwwAuthenticate,
  optionsJson,
  version,
} from '../index.js';
import { testServerPerFile, rpc, initialize } from './harness.mjs';

let server;
const track = testServerPerFile((s) => {
  server = s;
}, (s) => s.cmd('clear'));

async function rejectsWith(promise, kind) {
  const e = await promise.then(
    () => assert.fail(`expected a ${kind} failure`),
    (e) => e,
  );
  assert.ok(e instanceof McpAuthError, `${e}`);
  assert.equal(e.kind, kind, e.message);
  return e;
}

test('options the library refuses: invalid_argument and insecure_url, before any request', async () => {
  await server.cmd('reset');
  const bad = await rejectsWith(McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, bogusOption: true }), 'invalid_argument');
  assert.equal(bad.status, 100);
  assert.match(bad.message, /bogus_option/);
  const insecure = await rejectsWith(McpAuthClient.create({ serverUrl: 'http://mcp.example.com/mcp' }), 'insecure_url');
  assert.equal(insecure.status, 401);
  await assert.rejects(McpAuthClient.create({ serverUrl: 42 }), TypeError);
  assert.equal(await server.count(server.mcpPath), 0);
});

test('nothing listening: transport', async () => {
  const client = track(await McpAuthClient.create({ serverUrl: 'http://127.0.0.1:9/mcp', timeoutMs: 5000 }));
  const e = await rejectsWith(client.postJson(initialize), 'transport');
  assert.equal(e.status, 200);
});

test('the user denies the authorization: authorization, with the OAuth error', async () => {
  await server.cmd('authorize_error access_denied');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  const e = await rejectsWith(client.postJson(initialize), 'authorization');
  assert.equal(e.status, 303);
  assert.equal(e.oauthError?.error, 'access_denied');
});

test('the token endpoint refuses: token, with the OAuth error and the HTTP status', async () => {
  await server.cmd('fault /token 1 400 {"error":"invalid_grant","error_description":"code expired"}');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  const e = await rejectsWith(client.accessToken(), 'token');
  assert.equal(e.status, 304);
  assert.equal(e.oauthError?.error, 'invalid_grant');
  assert.equal(e.oauthError?.errorDescription, 'code expired');
  assert.equal(e.httpStatus, 400);
});

test('the server keeps refusing: unauthorized, with its challenge', async () => {
  await server.cmd('always_unauthorized true');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, maxAuthorizations: 2 }));
  const e = await rejectsWith(client.postJson(rpc('tools/list')), 'unauthorized');
  assert.equal(e.status, 305);
  assert.equal(e.httpStatus, 401);
  assert.equal(e.challenge?.status, 401);
  assert.match(e.challenge?.www_authenticate?.[0] ?? '', /^Bearer /);
});

test('secrets are neither in messages nor in what the client shows', async () => {
  const secret = 'S3CRET-value-0123456789';
  await server.cmd('fault /token 1 401 {"error":"invalid_client"}');
  const client = track(
    await McpAuthClient.create({
      serverUrl: server.url,
      grant: 'client_credentials',
      clientId: 'pre-registered',
      clientSecret: secret,
    }),
  );
  const e = await rejectsWith(client.accessToken(), 'token');
  assert.equal(e.oauthError?.error, 'invalid_client');
  for (const shown of [e.message, String(e), util.inspect(e), JSON.stringify(e), util.inspect(client)]) {
    assert.ok(!shown.includes(secret), shown);
  }
  assert.ok(optionsJson({ serverUrl: server.url, clientSecret: secret }).json.includes('"client_secret"'));
});

test('a redirect handler that fails: authorization, naming the handler', async () => {
  const client = track(
    await McpAuthClient.create({
      serverUrl: server.url,
      redirect: {
        type: 'callback',
        handler: async () => {
          throw new Error('the user closed the window');
        },
      },
    }),
  );
  const e = await rejectsWith(client.postJson(initialize), 'authorization');
  assert.match(e.message, /the user closed the window/);
});

test('an aborted signal rejects before the native call, sending nothing', async () => {
  await server.cmd('reset');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(client.postJson(initialize, { signal: controller.signal }), { name: 'AbortError' });
  await assert.rejects(client.accessToken({ signal: AbortSignal.abort(new Error('mine')) }), /mine/);
  assert.equal(await server.count(server.mcpPath), 0);
});

test('abort while queued behind a running call: rejected, never sent; the running call completes', async () => {
  const prm = await (await fetch(server.info.prm_url)).text();
  await server.cmd('reset');
  await server.cmd(`drip ${server.prmPath} 1 5 200 application/json ${prm}`);
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, threads: 1 }));
  const controller = new AbortController();
  const running = client.postJson(initialize);
  const queued = client.postJson(rpc('tools/list'), { signal: controller.signal });
  // The first call has reached the server (the dripped PRM): it is in flight.
  while ((await server.count(server.prmPath)) === 0);
  controller.abort();
  await assert.rejects(queued, { name: 'AbortError' });
  // Another call's signal does not touch the running call: it finishes.
  const r = await running;
  assert.equal(r.status, 200);
  assert.equal(await server.count(server.mcpPath), 2, 'the refused initialize and its retry, nothing else');
});

test('abort in flight: a login waiting for the browser is cancelled and frees the flow', async () => {
  await server.cmd('reset');
  let ready;
  const identified = new Promise((resolve) => (ready = resolve));
  const steps = [];
  const shown = [];
  const client = track(
    await McpAuthClient.create({
      serverUrl: server.url,
      redirect: { type: 'loopback', timeout_secs: 300, open_browser: false },
      // Shown to the user right before the wait on the loopback listener; nobody follows it.
      onAuthorizationUrl: (url, opened) => {
        shown.push([url, opened]);
        ready();
      },
      // One lane (a client with callbacks): the next call runs only once the aborted native
      // call has returned.
      onTrace: (e) => {
        steps.push(`${e.step}:${e.outcome}`);
      },
    }),
  );
  const controller = new AbortController();
  const login = client.accessToken({ signal: controller.signal });
  await identified; // the URL is shown: the authorization waits on the loopback listener (300 s)
  const aborted = performance.now();
  controller.abort();
  await assert.rejects(login, { name: 'AbortError' });
  // The host was handed the URL it would show (no browser was to be started).
  assert.equal(shown.length, 1);
  assert.equal(new URL(shown[0][0]).searchParams.get('response_type'), 'code');
  assert.equal(shown[0][1], false);
  const revocation = await client.logout();
  const took = performance.now() - aborted;
  console.log(`# abort to the next call's completion: ${took.toFixed(1)} ms`);
  assert.deepEqual(revocation, { status: 'no_tokens' });
  assert.ok(took < 5000, `${took} ms (generous: the login wait is 300 s)`);
  // The client is usable afterwards, and an abort touches only its own call.
  const other = new AbortController();
  assert.equal(typeof (await client.resourceKey({ signal: other.signal })), 'string');
});

test('calls after close reject with ClientClosedError; close is idempotent', async () => {
  const client = await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } });
  await client.close();
  await client.close();
  await assert.rejects(client.postJson(initialize), ClientClosedError);
  assert.match(util.inspect(client), /closed/);
});

test('library lookup: MCPAUTH_LIB first, a clear error naming every way', () => {
  assert.equal(libraryPath(), process.env.MCPAUTH_LIB);
  assert.match(version(), /^\d+\.\d+\.\d+/);
  const saved = process.env.MCPAUTH_LIB;
  try {
    process.env.MCPAUTH_LIB = '/nonexistent/libmcpauth.so';
    assert.throws(() => libraryPath(), (e) => {
      assert.ok(e instanceof LibraryNotFoundError);
      assert.match(e.message, /MCPAUTH_LIB/);
      assert.match(e.message, /libraryPath/);
      assert.match(e.message, /system loader/);
      assert.match(e.message, /\/nonexistent\/libmcpauth\.so/);
      return true;
    });
    delete process.env.MCPAUTH_LIB;
    assert.equal(libraryPath({ libraryPath: saved }), saved);
  } finally {
    process.env.MCPAUTH_LIB = saved;
  }
});

test('parseWwwAuthenticate runs synchronously on the calling thread', () => {
  const parsed = parseWwwAuthenticate('Bearer error="insufficient_scope", scope="mcp:write", resource_metadata="https://h/prm"');
  assert.equal(parsed.bearer.error, 'insufficient_scope');
  assert.equal(parsed.bearer.scope, 'mcp:write');
  assert.equal(parsed.bearer.resource_metadata, 'https://h/prm');
  assert.equal(parsed.challenges[0].scheme, 'Bearer');
});

test('options: camelCase to the JSON members, nested objects too; JS-only options stay out', () => {
  const handler = async (u) => u;
  const { json, redirectHandler } = optionsJson({
    serverUrl: 'https://mcp.example.com/mcp',
    clientName: 'n',
    requirePkceS256: true,
    storage: { type: 'file', path: '/tmp/c.json' },
    redirect: { type: 'callback', redirectUri: 'http://127.0.0.1:1/cb', handler },
    threads: 2,
    onTrace: () => {},
    libraryPath: '/x',
    scope: undefined,
  });
  assert.deepEqual(JSON.parse(json), {
    server_url: 'https://mcp.example.com/mcp',
    client_name: 'n',
    require_pkce_s256: true,
    storage: { type: 'file', path: '/tmp/c.json' },
    redirect: { type: 'callback', redirect_uri: 'http://127.0.0.1:1/cb' },
  });
  assert.equal(redirectHandler, handler);
  assert.deepEqual(JSON.parse(optionsJson({ serverUrl: 'https://h/mcp', redirect: { type: 'loopback', timeoutSecs: 5, openBrowser: false } }).json).redirect,
    { type: 'loopback', timeout_secs: 5, open_browser: false });
  assert.throws(() => optionsJson({ serverUrl: 'https://h/mcp', redirect: { type: 'callback' } }), TypeError);
  // Client metadata members go as written (RFC 7591 names, extensions unchanged).
  assert.deepEqual(
    JSON.parse(optionsJson({ serverUrl: 'https://h/mcp', clientMetadata: { token_endpoint_auth_method: 'client_secret_post', xCustom: 1 } }).json)
      .client_metadata,
    { token_endpoint_auth_method: 'client_secret_post', xCustom: 1 },
  );
});

test('an option without effect is an invalid_argument naming the way', async () => {
  const e = await rejectsWith(
    McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, tokenEndpointAuthMethod: 'client_secret_post' }),
    'invalid_argument',
  );
  assert.ok(e.message.includes('client_metadata.token_endpoint_auth_method'), e.message);
});

test('a failing store: storage, naming the operation', async () => {
  const store = {
    get: async () => {
      throw new Error('disk unreadable');
    },
    set: () => {},
    remove: () => {},
  };
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store } }));
  const e = await rejectsWith(client.postJson(initialize), 'storage');
  assert.equal(e.status, 500);
  assert.match(e.message, /disk unreadable/);
  await assert.rejects(McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store: {} } }), TypeError);
});

test('send to another origin: foreign_origin, nothing sent; crossOrigin without_token sends without the token', async () => {
  await server.cmd('reset');
  const http = await import('node:http');
  const seen = [];
  const other = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? null);
    res.writeHead(404, { 'content-length': '0' }).end();
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  const otherUrl = `http://127.0.0.1:${other.address().port}/x`;
  try {
    const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
    assert.equal((await client.postJson(initialize)).status, 200);
    const e = await rejectsWith(client.send({ url: otherUrl, body: '{}' }), 'foreign_origin');
    assert.equal(e.status, 404);
    assert.deepEqual(seen, []);
    const lenient = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, crossOrigin: 'without_token' }));
    assert.equal((await lenient.postJson(initialize)).status, 200);
    assert.equal((await lenient.send({ method: 'GET', url: otherUrl })).status, 404);
    assert.deepEqual(seen, [null]);
  } finally {
    await new Promise((r) => other.close(r));
  }
});
