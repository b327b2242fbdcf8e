// Provider profiles and per-server overrides (docs/providers.md) through the package: the options
// reach the core unchanged, a flow with them completes, and an AS refusal names the fix.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpAuthClient, optionsJson } from '../index.js';
import { testServerPerFile, initialize } from './harness.mjs';

let server;
const track = testServerPerFile((s) => {
  server = s;
}, (s) => s.cmd('authorize_error none'));

test('overrides: camelCase members become the core JSON; parameter names stay as written', () => {
  const { json } = optionsJson({
    serverUrl: 'https://mcp.example.com/mcp',
    provider: 'auth0',
    overrides: {
      resource: false,
      authorizationParams: { access_type: 'offline', domainHint: 'x' },
      trustedIssuers: [{ issuer: 'https://a.example', metadataUrl: 'https://b.example/.well-known/x' }],
    },
    redirect: { type: 'loopback', host: 'localhost', path: '/cb' },
  });
  const o = JSON.parse(json);
  assert.equal(o.provider, 'auth0');
  assert.equal(o.overrides.resource, false);
  assert.deepEqual(o.overrides.authorization_params, { access_type: 'offline', domainHint: 'x' });
  assert.deepEqual(o.overrides.trusted_issuers, [{ issuer: 'https://a.example', metadata_url: 'https://b.example/.well-known/x' }]);
  assert.deepEqual(o.redirect, { type: 'loopback', host: 'localhost', path: '/cb' });
});

test('a flow with overrides completes; an unknown profile is refused naming the known ones', async () => {
  await server.cmd('reset');
  const client = track(await McpAuthClient.create({
    serverUrl: server.url,
    redirect: { type: 'headless' },
    overrides: { resource: false, authorizationParams: { audience: '{resource}' }, prompt: 'omit' },
  }));
  const init = await client.postJson(initialize);
  assert.equal(init.status, 200);
  assert.equal(await server.grants('authorization_code'), 1);

  await assert.rejects(
    McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, provider: 'okta' }),
    (e) => e.kind === 'invalid_argument' && /entra/.test(e.message),
  );
});

test('an AS refusing `resource` (invalid_target): the error names overrides.resource and the entra profile', async () => {
  await server.cmd('reset');
  await server.cmd('authorize_error invalid_target');
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  await assert.rejects(client.postJson(initialize), (e) => {
    assert.equal(e.kind, 'authorization');
    assert.match(e.message, /overrides\.resource/);
    assert.match(e.message, /"entra"/);
    return true;
  });
  assert.equal(await server.grants('authorization_code'), 0);
});
