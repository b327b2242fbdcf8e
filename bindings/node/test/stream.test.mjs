// MCP traffic is not OAuth traffic: `sendStreamed` reads a 50 MiB tool result and an event
// stream longer than the OAuth timeout (30 s) as they arrive, progress proven by the demo
// server's own counters (the server runs at most a chunk ahead of the socket buffers, so
// "not completed" after the first MiB means the client did not wait for the whole body).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { McpAuthClient, McpAuthError, StreamClosedError } from '../index.js';
import { testServerPerFile, rpc } from './harness.mjs';

const MIB = 1024 * 1024;
const PATTERN = new TextEncoder().encode('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_');
const ACCEPT = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

/** The event stream's length in seconds: 35 (past the 30 s OAuth timeout); MCPAUTH_TEST_SSE_SECS overrides. */
const SSE_SECS = Number(process.env.MCPAUTH_TEST_SSE_SECS ?? 35);

let server;
const track = testServerPerFile((s) => {
  server = s;
});

const call = (name, args, id = 7) => ({
  method: 'POST',
  headers: ACCEPT,
  body: JSON.stringify(rpc('tools/call', { name, arguments: args }, id)),
});

const peakRssKiB = () => process.resourceUsage().maxRSS;

// The chunks are garbage once checked; V8 collects them when its external-memory trigger fires
// (tens of MiB), so the test collects every 4 MiB to measure what the stream itself keeps.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

test('a 50 MiB tool result is read chunk by chunk as it arrives, after the flow', async () => {
  await server.cmd('reset');
  const bytes = 50 * MIB;
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  // A first stream, before measuring (a worker thread started and stopped): no token yet, so
  // the flow runs on the 401 before its head.
  const first = await client.sendStreamed(call('big', { bytes: 1024 }));
  assert.equal(first.authorizations, 1, 'the flow ran on the first 401');
  assert.equal(first.challenge?.status, 401, 'the 401 challenge is kept');
  assert.equal((await first.bytes()).length, 1024 + 73);
  await server.cmd('reset');
  gc();
  const rssBefore = process.memoryUsage().rss / 1024;
  const peakBefore = peakRssKiB();
  const stream = await client.sendStreamed(call('big', { bytes }));
  assert.equal(stream.status, 200);
  assert.equal(stream.authorizations, 0, 'the token of the first stream serves');
  assert.equal(stream.isEventStream, false);
  assert.match(stream.header('content-type'), /application\/json/);

  const prefix = new TextEncoder().encode('{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"');
  const suffix = new TextEncoder().encode('"}]}}');
  const total = prefix.length + bytes + suffix.length;
  let offset = 0;
  let chunks = 0;
  let atFirstMib = null;
  for await (const chunk of stream) {
    assert.ok(chunk instanceof Uint8Array && chunk.length > 0 && chunk.length <= 64 * 1024);
    chunks++;
    for (let i = 0; i < chunk.length; i++, offset++) {
      const want =
        offset < prefix.length
          ? prefix[offset]
          : offset < prefix.length + bytes
            ? PATTERN[(offset - prefix.length) % 64]
            : suffix[offset - prefix.length - bytes];
      if (chunk[i] !== want) assert.fail(`byte ${offset} is ${chunk[i]}, expected ${want}`);
    }
    if (chunks % 64 === 0) gc();
    if (atFirstMib === null && offset >= MIB) {
      // No read is in progress while this runs: the server waits for the client.
      atFirstMib = await server.cmd('streams');
    }
  }
  assert.equal(offset, total, 'the whole body arrived');
  assert.deepEqual([atFirstMib.started, atFirstMib.completed], [1, 0], JSON.stringify(atFirstMib));
  assert.ok(atFirstMib.bytes_sent < bytes, JSON.stringify(atFirstMib));
  const end = await server.cmd('streams');
  assert.deepEqual([end.started, end.completed, end.abandoned], [1, 1, 0]);
  const growth = peakRssKiB() - peakBefore;
  console.log(
    `node: 50 MiB in ${chunks} chunks; RSS before ${Math.round(rssBefore)} KiB, peak RSS grew by ${growth} KiB`,
  );
  assert.ok(growth < 32 * 1024, `the peak RSS grew by ${growth} KiB while reading 50 MiB`);
});

test(`an event stream of ${SSE_SECS} s (longer than the OAuth timeout) is read event by event`, async () => {
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  await client.accessToken();
  await server.cmd('reset');
  const count = SSE_SECS + 1; // one at once, then one per second
  const stream = await client.sendStreamed(call('ticker', { count, interval_ms: 1000 }));
  assert.equal(stream.status, 200);
  assert.equal(stream.isEventStream, true);
  const progress = [];
  let result = null;
  for await (const event of stream.events()) {
    assert.equal(event.event, 'message');
    assert.equal(event.id, String(progress.length + 1 + (result ? 1 : 0)));
    const message = JSON.parse(event.data);
    if (message.method === 'notifications/progress') {
      assert.equal(result, null, 'progress after the result');
      if (progress.length === 0) {
        const c = await server.cmd('streams');
        assert.ok(c.completed === 0 && c.events_sent < count + 1, `first event while producing: ${JSON.stringify(c)}`);
      }
      progress.push(message.params.progress);
    } else {
      result = message;
    }
  }
  assert.deepEqual(progress, Array.from({ length: count }, (_, i) => i + 1));
  assert.equal(result.result.content[0].text, `ticked ${count}`);
  const c = await server.cmd('streams');
  assert.deepEqual([c.started, c.completed, c.events_sent], [1, 1, count + 1]);
});

test('a stream cap applies when set: at the head for a known length, else while reading', async () => {
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, streamMaxBodyBytes: 2 * MIB }));
  await assert.rejects(
    client.sendStreamed(call('big', { bytes: 3 * MIB })),
    (e) => e instanceof McpAuthError && e.kind === 'response_too_large',
  );
  const small = await client.sendStreamed(call('big', { bytes: MIB }));
  assert.equal((await small.bytes()).length, MIB + 73);
  await assert.rejects(small.read(), StreamClosedError);

  const tiny = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' }, streamMaxBodyBytes: 1000 }));
  const ticks = await tiny.sendStreamed(call('ticker', { count: 50, interval_ms: 1 }));
  let seen = 0;
  await assert.rejects(
    async () => {
      for await (const _ of ticks.events()) seen++;
    },
    (e) => e instanceof McpAuthError && e.kind === 'response_too_large',
  );
  assert.ok(seen < 50, `${seen} events before the cap`);
});

test('abort ends a stream: the read in progress rejects, the server sees the client go', async () => {
  const client = track(await McpAuthClient.create({ serverUrl: server.url, redirect: { type: 'headless' } }));
  await client.accessToken();
  await server.cmd('reset');
  const controller = new AbortController();
  const stream = await client.sendStreamed({ ...call('ticker', { count: 100000, interval_ms: 20 }), signal: controller.signal });
  const first = await stream.nextEvent();
  assert.equal(JSON.parse(first.data).params.progress, 1);
  await assert.rejects(stream.read(), TypeError, 'bytes after events');
  const pending = stream.nextEvent();
  const pendingSecond = stream.nextEvent();
  await assert.rejects(pendingSecond, TypeError, 'one read at a time');
  controller.abort();
  await assert.rejects(pending, (e) => e.name === 'AbortError');
  await stream.close();
  // The connection is closed: the server's next tick finds no reader.
  let c = await server.cmd('streams');
  for (let i = 0; i < 100000 && c.abandoned === 0; i++) c = await server.cmd('streams');
  assert.deepEqual([c.started, c.completed, c.abandoned], [1, 0, 1], JSON.stringify(c));
});
