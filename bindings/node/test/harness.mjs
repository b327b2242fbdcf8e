// The test server: mcp-auth-node-test-server (the demo server with a control channel on stdin,
// bindings/node/test-server), one per test file or test, stopped by closing its stdin.

import { before, after, afterEach } from 'node:test';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The library under test: $MCPAUTH_LIB (set by `make test-node`), else the debug build. */
process.env.MCPAUTH_LIB ??= path.join(repo, 'target/debug/libmcpauth.so');

export class TestServer {
  static async start() {
    const bin = process.env.MCPAUTH_NODE_TEST_SERVER ?? path.join(repo, 'target/debug/mcp-auth-node-test-server');
    const proc = spawn(bin, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: proc.stdout });
    const server = new TestServer(proc, lines);
    const first = await server.#nextLine();
    if (!first?.startsWith('listening on ')) throw new Error(`test server did not start: ${first}`);
    server.url = first.slice('listening on '.length);
    server.origin = new URL(server.url).origin;
    server.info = await server.cmd('info');
    return server;
  }

  #waiters = [];
  #buffered = [];

  constructor(proc, lines) {
    this.proc = proc;
    lines.on('line', (l) => {
      const w = this.#waiters.shift();
      if (w) w(l);
      else this.#buffered.push(l);
    });
    lines.on('close', () => {
      for (const w of this.#waiters.splice(0)) w(null);
    });
  }

  #nextLine() {
    if (this.#buffered.length) return Promise.resolve(this.#buffered.shift());
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** One control command; resolves with its JSON answer. */
  async cmd(line) {
    const answer = this.#nextLine();
    this.proc.stdin.write(`${line}\n`);
    const json = JSON.parse(await answer);
    if (json.error) throw new Error(`test server: ${json.error}`);
    return json;
  }

  /** The server's own request counter for `path`. */
  async count(p) {
    return (await this.cmd(`count ${p}`)).count;
  }

  async grants(type) {
    return (await this.cmd(`grants ${type}`)).count;
  }

  get prmPath() {
    return new URL(this.info.prm_url).pathname;
  }

  get mcpPath() {
    return new URL(this.url).pathname;
  }

  async stop() {
    this.proc.stdin.end();
    if (this.proc.exitCode === null) await new Promise((r) => this.proc.once('exit', r));
  }
}

export const rpc = (method, params = {}, id = 1) => ({ jsonrpc: '2.0', id, method, params });

export const initialize = rpc('initialize', {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcp-auth-client-tests', version: '0' },
});

/**
 * A test file's setup: one test server, started before its tests (handed to `started`) and
 * stopped after them. Returns `track(client)`: the client is closed after the test, then
 * `afterEachTest(server)` runs when given.
 */
export function testServerPerFile(started, afterEachTest) {
  let server;
  const clients = [];
  before(async () => {
    server = await TestServer.start();
    await started(server);
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await afterEachTest?.(server);
  });
  return (c) => (clients.push(c), c);
}
