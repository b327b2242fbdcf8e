// The refresh lease of a host-written store (docs/fleet.md): several clients share one custom
// store (as processes share a credential store), all holding the same expired token, against a
// server that revokes the grant when a refresh token is presented twice. Counted from the
// server's side. Each client has a worker lane of its own, so their refreshes really run at
// the same time; the store makes them all read the expired token before any of them refreshes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpAuthClient, McpAuthError } from '../index.js';
import { testServerPerFile, rpc, initialize } from './harness.mjs';

let server;
const track = testServerPerFile(async (s) => {
  server = s;
  await server.cmd('reuse_detection true');
});

const CLIENTS = 4;

/**
 * A store in memory. Once armed with `rounds`, the reads of the tokens go in lockstep: each
 * round's `CLIENTS` reads (one per client: a client's reads are sequential) resolve together
 * once all of them are waiting, so every client reads the same (expired) token that many times
 * before any of them can refresh. With `lease`, it has `lock`/`unlock`: one owner at a time per
 * key, the others waiting, a lease ending by itself after `ttlMs`.
 */
function sharedStore({ lease }) {
  const data = new Map();
  const counts = { lock: 0, unlock: 0, maxHolders: 0 };
  let rounds = 0;
  let round = null;
  const store = {
    async get(kind, key) {
      if (kind === 'tokens' && rounds > 0) {
        if (!round) {
          let release;
          round = { waiting: 0, done: new Promise((r) => (release = r)), release: () => release() };
        }
        const r = round;
        r.waiting += 1;
        if (r.waiting === CLIENTS) {
          round = null;
          rounds -= 1;
          r.release();
        }
        await r.done;
      }
      return data.get(`${kind} ${key}`) ?? null;
    },
    async set(kind, key, value) {
      data.set(`${kind} ${key}`, value);
    },
    async remove(kind, key) {
      data.delete(`${kind} ${key}`);
    },
  };
  if (lease) {
    const held = new Map(); // key -> { owner, timer }
    const waiters = [];
    const wake = () => waiters.splice(0).forEach((w) => w());
    store.lock = async (key, owner, ttlMs) => {
      counts.lock += 1;
      while (held.has(key)) await new Promise((r) => waiters.push(r));
      // The lease ends by itself after ttlMs even if its holder never releases it.
      const timer = setTimeout(() => {
        if (held.get(key)?.owner === owner) {
          held.delete(key);
          wake();
        }
      }, ttlMs);
      timer.unref();
      held.set(key, { owner, timer });
      counts.maxHolders = Math.max(counts.maxHolders, held.size);
    };
    store.unlock = async (key, owner) => {
      counts.unlock += 1;
      const h = held.get(key);
      if (h?.owner === owner) {
        clearTimeout(h.timer);
        held.delete(key);
        wake();
      }
    };
  }
  return {
    store,
    data,
    counts,
    /** The next `n` rounds of token reads go in lockstep. */
    arm(n) {
      rounds = n;
    },
    /** Age the stored token: expired for every client that reads it. */
    expireStored(resource) {
      const k = `tokens ${resource}`;
      const t = JSON.parse(data.get(k));
      t.expires_at = 1;
      data.set(k, JSON.stringify(t));
    },
  };
}

/**
 * One login through `store`; then the clients that share it, all on the expired token, their
 * first `rounds` reads of the tokens in lockstep.
 */
async function fleetOnExpiredToken(shared, rounds) {
  const first = track(
    await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store: shared.store } }),
  );
  assert.equal((await first.postJson(initialize)).status, 200);
  const resource = await first.resourceKey();
  await server.cmd('expire');
  shared.expireStored(resource);
  await server.cmd('reset');
  const fleet = [];
  for (let i = 0; i < CLIENTS; i += 1) {
    fleet.push(track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store: shared.store } })));
  }
  shared.arm(rounds);
  return Promise.allSettled(fleet.map((c, i) => c.postJson(rpc('tools/list', {}, i + 2))));
}

// Generous: a loaded machine, and a lockstep that waits for every client.
const DEADLINE = { timeout: 120_000 };

test('with lock/unlock, clients sharing a store refresh once per expiry', DEADLINE, async () => {
  const shared = sharedStore({ lease: true });
  // Every client loads the expired token; the lease then lets one refresh at a time, and each
  // re-reads the store under it.
  const results = await fleetOnExpiredToken(shared, 1);
  for (const r of results) {
    assert.equal(r.status, 'fulfilled', String(r.reason));
    assert.equal(r.value.status, 200);
    assert.equal(r.value.authorizations, 0, 'no new authorization');
  }
  const counts = await server.cmd('refreshes');
  assert.equal(counts.refreshes, 1, JSON.stringify(counts));
  assert.equal(counts.reuse_detections, 0, JSON.stringify(counts));
  assert.equal(counts.revocations, 0, JSON.stringify(counts));
  assert.equal(await server.grants('authorization_code'), 0, 'no new login');
  assert.ok(shared.counts.lock >= 1, JSON.stringify(shared.counts));
  assert.equal(shared.counts.unlock, shared.counts.lock, 'every lease released');
  assert.equal(shared.counts.maxHolders, 1);
});

test('without lock/unlock (the control), the same fleet presents one refresh token several times', DEADLINE, async () => {
  const shared = sharedStore({ lease: false });
  // The three reads before a refresh (the load, and the re-reads before and under the absent
  // lease) in lockstep: every client refreshes with the refresh token all of them read.
  await fleetOnExpiredToken(shared, 3);
  const counts = await server.cmd('refreshes');
  // Each client refreshes on its own with the token all of them read: the server sees the
  // consumed refresh token again and revokes the grant.
  assert.ok(counts.reuse_detections >= 1, JSON.stringify(counts));
});

test('a lock that throws fails the call with kind storage; lock without unlock is refused', DEADLINE, async () => {
  const shared = sharedStore({ lease: true });
  shared.store.lock = async () => {
    throw new Error('lease store unreachable');
  };
  const first = track(
    await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store: shared.store } }),
  );
  assert.equal((await first.postJson(initialize)).status, 200);
  shared.expireStored(await first.resourceKey());
  await server.cmd('expire');
  const second = track(
    await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store: shared.store } }),
  );
  await server.cmd('reset');
  await assert.rejects(second.postJson(rpc('tools/list')), (e) => {
    assert.ok(e instanceof McpAuthError);
    assert.equal(e.kind, 'storage');
    assert.match(e.message, /lease store unreachable/);
    return true;
  });
  assert.equal((await server.cmd('refreshes')).refreshes, 0, 'no refresh without the lease');

  const { unlock, ...lockOnly } = shared.store;
  assert.equal(typeof unlock, 'function');
  await assert.rejects(
    McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, storage: { type: 'custom', store: lockOnly } }),
    TypeError,
  );
});
