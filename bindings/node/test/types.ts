// Typed usage of the package, checked by `tsc -p tsconfig.json` (part of `npm test`): it
// compiles only if index.d.ts describes the API as the README shows it.

import {
  McpAuthClient,
  McpAuthError,
  ClientClosedError,
  LibraryNotFoundError,
  parseWwwAuthenticate,
  version,
  libraryPath,
  ABI_VERSION,
  type ClientOptions,
  type ErrorKind,
  type McpAuthResponse,
  type McpAuthStream,
  type ServerSentEvent,
  StreamClosedError,
  type TraceEvent,
  type TokenStorage,
  type Revocation,
} from 'mcp-auth-client';

export class MapStore implements TokenStorage {
  #data = new Map<string, string>();
  async get(kind: string, key: string): Promise<string | null> {
    return this.#data.get(`${kind} ${key}`) ?? null;
  }
  set(kind: string, key: string, valueJson: string): void {
    this.#data.set(`${kind} ${key}`, valueJson);
  }
  remove(kind: string, key: string): void {
    this.#data.delete(`${kind} ${key}`);
  }
}

export const custom: ClientOptions = { serverUrl: 'https://h/mcp', storage: { type: 'custom', store: new MapStore() } };

/** A store with the refresh lease (one holder per key in this process). */
export class LeasedMapStore extends MapStore {
  #holders = new Map<string, string>();
  async lock(key: string, owner: string, ttlMs: number): Promise<void> {
    if (this.#holders.has(key)) throw new Error(`held; retry within ${ttlMs} ms`);
    this.#holders.set(key, owner);
  }
  unlock(key: string, owner: string): void {
    if (this.#holders.get(key) === owner) this.#holders.delete(key);
  }
}

export const leased: ClientOptions = { serverUrl: 'https://h/mcp', storage: { type: 'custom', store: new LeasedMapStore() } };

export async function usage(serverUrl: string): Promise<string | null> {
  const options: ClientOptions = {
    serverUrl,
    clientName: 'typed host',
    timeoutMs: 10_000,
    storage: { type: 'file', path: '/tmp/credentials.json' },
    redirect: {
      type: 'callback',
      redirectUri: 'http://127.0.0.1:8765/callback',
      handler: async (authorizationUrl: string) => `${authorizationUrl}&code=x`,
    },
    onTrace: (e: TraceEvent) => {
      const outcome: 'ok' | 'fallback' | 'failed' = e.outcome;
      void outcome;
    },
  };
  const client = await McpAuthClient.create(options);
  try {
    const controller = new AbortController();
    const r: McpAuthResponse = await client.postJson(
      { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
      { signal: controller.signal },
    );
    const status: number = r.status;
    const text: string = r.text();
    const contentType: string | null = r.header('content-type');
    const sent = await client.send({ method: 'GET', url: serverUrl, headers: { Accept: 'text/event-stream' } });
    void [status, text, contentType, sent.ok, sent.body.byteLength, r.authorizations];
    const stream: McpAuthStream = await client.sendStreamed({
      body: '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"big","arguments":{"bytes":9}}}',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      chunkSize: 16 * 1024,
      signal: controller.signal,
    });
    if (stream.isEventStream) {
      for await (const e of stream.events()) {
        const event: ServerSentEvent = e;
        const retry: number | null = event.retry;
        void [event.data, event.id, retry];
      }
    } else {
      let n = 0;
      for await (const chunk of stream) n += chunk.byteLength;
      const next: Uint8Array | null = await stream.read().catch((e: unknown) => (e instanceof StreamClosedError ? null : null));
      void [n, next, stream.status, stream.header('content-type'), stream.challenge?.status];
    }
    await stream.close();
    const discovered = await client.discover();
    const issuer: string = discovered.issuer;
    const probe = await client.probe();
    void [issuer, probe.status, probe.challenge?.bearer?.scope];
    const token: string = await client.accessToken();
    const current: string | null = await client.currentToken();
    const retry: string | null = await client.authorizeAfter({ status: 401, wwwAuthenticate: ['Bearer'], rejectedToken: current });
    void [token, retry];
    const revocation: Revocation = await client.logout();
    const outcome: 'revoked' | 'no_tokens' | 'unsupported' | 'failed' = revocation.status;
    const forgotten: string = await client.forgetClient();
    void outcome;
    void forgotten;
    return await client.grantedScope();
  } catch (e) {
    if (e instanceof McpAuthError) {
      const kind: ErrorKind = e.kind;
      const oauth: string | undefined = e.oauthError?.error;
      void [kind, oauth, e.status, e.httpStatus, e.check, e.challenge?.www_authenticate];
    } else if (e instanceof ClientClosedError || e instanceof LibraryNotFoundError) {
      void e.message;
    }
    throw e;
  } finally {
    await client.close();
  }
}

export function pure(): string | null {
  const abi: 1 = ABI_VERSION;
  void [abi, version(), libraryPath({ libraryPath: '/usr/lib/libmcpauth.so.1' })];
  return parseWwwAuthenticate('Bearer scope="a"').bearer?.scope ?? null;
}

export const providers: ClientOptions = {
  serverUrl: 'https://h/mcp',
  provider: 'entra',
  overrides: {
    resource: false,
    authorizationParams: { audience: '{resource}' },
    prompt: 'omit',
    trustedIssuers: [{ issuer: 'https://a', metadataUrl: 'https://b/.well-known/openid-configuration' }],
  },
  redirect: { type: 'loopback', host: 'localhost', port: 3118, path: '/callback' },
};
export const device: ClientOptions = { serverUrl: 'https://h/mcp', grant: 'device_code', redirect: { type: 'device' } };
// @ts-expect-error a redirect host is 127.0.0.1 or localhost
export const badHost: ClientOptions = { serverUrl: 'https://h/mcp', redirect: { type: 'loopback', host: '0.0.0.0' } };

// @ts-expect-error serverUrl is required
export const missing: ClientOptions = { clientName: 'x' };
// @ts-expect-error a callback redirect needs its handler
export const noHandler: ClientOptions = { serverUrl: 'https://h/mcp', redirect: { type: 'callback' } };
// @ts-expect-error the constructor is private: use McpAuthClient.create
export const direct = new McpAuthClient();
