// mcp-auth-client: MCP client authorization (OAuth 2.1) for Node.js, over libmcpauth.
//
// The public API: McpAuthClient (a promise API whose native calls run on worker threads, see
// lib/lane.js), McpAuthError, and a few pure functions that run on the calling thread.

import { Worker, MessageChannel } from 'node:worker_threads';
import { openLibrary, declarePure, takeString, ABI_VERSION, LibraryNotFoundError } from './lib/native.js';

export { ABI_VERSION, LibraryNotFoundError };

const LANE_URL = new URL('./lib/lane.js', import.meta.url);
const DEFAULT_THREADS = 4;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/**
 * A failure reported by libmcpauth. `kind` is the C status name in lower case (`token`,
 * `unauthorized`, `security_check`, ...); `status` is the numeric `mcpauth_status`. Messages
 * never contain secrets (the library guarantees it for its own text; this class adds none).
 */
export class McpAuthError extends Error {
  constructor(details) {
    super(details.message);
    this.name = 'McpAuthError';
    this.status = details.status;
    this.kind = String(details.statusName ?? 'unknown').toLowerCase();
    const o = details.oauthError;
    this.oauthError = o
      ? { error: o.error, errorDescription: o.error_description ?? null, errorUri: o.error_uri ?? null }
      : null;
    this.httpStatus = details.httpStatus || null;
    this.check = details.check ?? null;
    this.challenge = details.challenge ?? null;
  }
}

/** Raised by calls on a client after `close()`. */
export class ClientClosedError extends Error {
  constructor() {
    super('the McpAuthClient is closed');
    this.name = 'ClientClosedError';
  }
}

// ---------------------------------------------------------------------------------------------
// The library on this thread (pure functions)
// ---------------------------------------------------------------------------------------------

const libraries = new Map();

function mainLibrary(libraryPath) {
  const key = `${process.env.MCPAUTH_LIB ?? ''}\0${libraryPath ?? ''}`;
  let entry = libraries.get(key);
  if (!entry) {
    const { lib, name } = openLibrary(libraryPath);
    entry = { name, api: declarePure(lib) };
    libraries.set(key, entry);
  }
  return entry;
}

/** Where libmcpauth was loaded from (see the README: `MCPAUTH_LIB`, `libraryPath`, the loader). */
export function libraryPath(options = {}) {
  return mainLibrary(options.libraryPath).name;
}

/** The version of the loaded libmcpauth, e.g. `"0.1.0"`. */
export function version(options = {}) {
  return mainLibrary(options.libraryPath).api.version();
}

/**
 * Parse a `WWW-Authenticate` header value into its challenges and the Bearer view (RFC 9110
 * §11.6.1, RFC 6750 §3, RFC 9728 §5.1). Synchronous: no I/O.
 */
export function parseWwwAuthenticate(value, options = {}) {
  const { api } = mainLibrary(options.libraryPath);
  const out = [null];
  const status = api.parseWwwAuthenticate(String(value), out);
  if (status !== 0) throw pureError(api, status);
  return JSON.parse(takeString(api, out[0]));
}

function pureError(api, status) {
  const json = api.lastErrorJson();
  const d = json ? JSON.parse(json) : {};
  return new McpAuthError({
    status,
    statusName: d.status_name ?? api.statusName(status),
    message: d.message ?? api.statusStr(status),
    oauthError: d.oauth_error,
    httpStatus: d.http_status,
    check: d.check,
    challenge: d.challenge,
  });
}

// ---------------------------------------------------------------------------------------------
// Options: the typed JS object to the options JSON of mcpauth_client_config_new
// ---------------------------------------------------------------------------------------------

const JS_ONLY = new Set(['libraryPath', 'threads', 'onTrace', 'onAuthorizationUrl', 'onDeviceCode', 'redirect']);

function snake(key) {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function toSnake(value) {
  if (Array.isArray(value)) return value.map(toSnake);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [snake(k), toSnake(v)]),
    );
  }
  return value;
}

/**
 * The options JSON for the C ABI, plus the parts that stay in JS. Exported for tests and for
 * hosts that log their configuration (it holds secrets when the options do: do not log it).
 */
export function optionsJson(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if (typeof options.serverUrl !== 'string') throw new TypeError('options.serverUrl must be a string');
  const rest = Object.fromEntries(Object.entries(options).filter(([k]) => !JS_ONLY.has(k)));
  const json = toSnake(rest);
  // Parameter names of the per-server overrides are sent as written (docs/providers.md).
  for (const [camel, key] of [['authorizationParams', 'authorization_params'], ['tokenParams', 'token_params']]) {
    if (options.overrides?.[camel] !== undefined) json.overrides[key] = { ...options.overrides[camel] };
  }
  // RFC 7591 client metadata: member names as written (snake_case, extensions unchanged).
  if (options.clientMetadata !== undefined) json.client_metadata = { ...options.clientMetadata };
  let redirectHandler = null;
  if (options.redirect !== undefined) {
    const { handler, ...redirect } = options.redirect;
    if (redirect.type === 'callback') {
      if (typeof handler !== 'function') {
        throw new TypeError("options.redirect.handler must be a function with type 'callback'");
      }
      redirectHandler = handler;
    } else if (handler !== undefined) {
      throw new TypeError("options.redirect.handler is only used with type 'callback'");
    }
    json.redirect = toSnake(redirect);
  }
  let store = null;
  if (options.storage?.type === 'custom') {
    store = options.storage.store;
    for (const m of ['get', 'set', 'remove']) {
      if (typeof store?.[m] !== 'function') {
        throw new TypeError(`options.storage.store.${m} must be a function with type 'custom'`);
      }
    }
    // The refresh lease (docs/fleet.md): both methods or neither.
    const lease = ['lock', 'unlock'].filter((m) => store[m] !== undefined);
    for (const m of lease) {
      if (typeof store[m] !== 'function') throw new TypeError(`options.storage.store.${m} must be a function`);
    }
    if (lease.length === 1) {
      throw new TypeError('options.storage.store: lock and unlock go together (the refresh lease), or neither');
    }
    // The host's store replaces the built-in ones (mcpauth_client_config_set_storage).
    delete json.storage;
  }
  return { json: JSON.stringify(json), redirectHandler, store };
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

const decoder = new TextDecoder();

/** The final response of `send` / `postJson`. */
export class McpAuthResponse {
  constructor(r) {
    /** HTTP status of the final response. */
    this.status = r.status;
    /** Every header as `[name, value]`, names lowercased, in order. */
    this.headers = r.headers ?? [];
    /** The body bytes. */
    this.body = r.body;
    /** The last 401/403 challenge seen while sending (also after a successful retry), or null. */
    this.challenge = r.challenge;
    /** Tokens acquired (authorizations or refreshes) while sending this request. */
    this.authorizations = r.authorizations;
    /** The JSON-RPC message of the body (JSON or the first SSE `data:` event), or null. */
    this.message = r.message;
  }

  /** `status` is 200–299. */
  get ok() {
    return this.status >= 200 && this.status < 300;
  }

  /** The value of a header (case-insensitive; repeated values joined with `", "`), or null. */
  header(name) {
    const lower = name.toLowerCase();
    const values = this.headers.filter(([n]) => n === lower).map(([, v]) => v);
    return values.length ? values.join(', ') : null;
  }

  /** The body as UTF-8 text. */
  text() {
    return decoder.decode(this.body);
  }

  /** The body parsed as JSON. */
  json() {
    return JSON.parse(this.text());
  }
}

// ---------------------------------------------------------------------------------------------
// Streamed responses
// ---------------------------------------------------------------------------------------------

const DEFAULT_CHUNK_SIZE = 64 * 1024;

/** Raised by reads of a stream after `close()`. */
export class StreamClosedError extends Error {
  constructor() {
    super('the McpAuthStream is closed');
    this.name = 'StreamClosedError';
  }
}

/**
 * The response of `sendStreamed`: status and headers at once, the body as it arrives. Iterate
 * it (`for await (const chunk of stream)`: `Uint8Array` chunks) or its server-sent events
 * (`for await (const event of stream.events())`). Reads run on a worker thread of the stream's
 * own, so a long stream holds up neither the event loop nor the client's other calls. Memory
 * stays bounded by one chunk (or one event) at a time.
 */
export class McpAuthStream {
  #lane;
  #address;
  #chunkSize;
  #mode = null;
  #busy = false;
  #closed = false;
  #closing = null;
  #abort = null;
  #signal;
  #onAbort = null;

  /** @internal */
  constructor(head, lane, { chunkSize, signal }) {
    this.#lane = lane;
    this.#address = head.stream;
    this.#chunkSize = chunkSize;
    this.#signal = signal ?? null;
    /** HTTP status of the final response. */
    this.status = head.status;
    /** Every header as `[name, value]`, names lowercased, in order. */
    this.headers = head.headers ?? [];
    /** The last 401/403 challenge seen while sending (also after a successful retry), or null. */
    this.challenge = head.challenge;
    /** Tokens acquired (authorizations or refreshes) while sending this request. */
    this.authorizations = head.authorizations;
    /** Whether the body is `text/event-stream` (read it with `events()`). */
    this.isEventStream = head.eventStream;
    if (this.#signal) {
      this.#onAbort = () => {
        this.#abort?.(abortReason(this.#signal));
        this.close();
      };
      this.#signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** `status` is 200–299. */
  get ok() {
    return this.status >= 200 && this.status < 300;
  }

  /** The value of a header (case-insensitive; repeated values joined with `", "`), or null. */
  header(name) {
    const lower = name.toLowerCase();
    const values = this.headers.filter(([n]) => n === lower).map(([, v]) => v);
    return values.length ? values.join(', ') : null;
  }

  /** One native read on the stream's lane; rejects at once when the signal aborts. */
  #op(op, mode) {
    if (this.#closed) {
      return Promise.reject(this.#signal?.aborted ? abortReason(this.#signal) : new StreamClosedError());
    }
    if (this.#mode !== null && this.#mode !== mode) {
      return Promise.reject(new TypeError('a stream is read either as bytes or as events, not both'));
    }
    if (this.#busy) return Promise.reject(new TypeError('a read of this stream is already in progress'));
    this.#mode = mode;
    this.#busy = true;
    const p = this.#lane.call(op, { stream: this.#address, size: this.#chunkSize });
    return new Promise((resolve, reject) => {
      this.#abort = reject;
      p.then(resolve, reject).finally(() => {
        this.#busy = false;
        this.#abort = null;
      });
    });
  }

  /** The next chunk of the body (a `Uint8Array` of at most `chunkSize` bytes), or null at its end. */
  read() {
    return this.#op('streamRead', 'bytes');
  }

  /** The next server-sent event `{event, data, id, retry}`, or null at the end of the stream. */
  nextEvent() {
    return this.#op('streamNextEvent', 'events');
  }

  async *[Symbol.asyncIterator]() {
    try {
      for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield chunk;
    } finally {
      await this.close();
    }
  }

  /** The body's server-sent events, each as soon as it is complete; closes the stream at the end. */
  async *events() {
    try {
      for (let e = await this.nextEvent(); e !== null; e = await this.nextEvent()) yield e;
    } finally {
      await this.close();
    }
  }

  /** The rest of the body as one `Uint8Array` (for small bodies), then closes the stream. */
  async bytes() {
    const chunks = [];
    for await (const c of this) chunks.push(c);
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /**
   * Close the stream: the connection is closed if the body was not read to its end. A read in
   * progress rejects at once with `StreamClosedError`; the native stream is freed when that
   * read returns (its next bytes, or the idle timeout). Idempotent.
   */
  close() {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close() {
    this.#closed = true;
    this.#abort?.(this.#signal?.aborted ? abortReason(this.#signal) : new StreamClosedError());
    if (this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    // Messages run in order on the lane: the free runs after a read in progress.
    await this.#lane.call('streamFree', { stream: this.#address }).catch(() => {});
    await this.#lane.terminate();
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `McpAuthStream { status: ${this.status}${this.isEventStream ? ', event stream' : ''}${this.#closed ? ', closed' : ''} }`;
  }
}

// ---------------------------------------------------------------------------------------------
// Lanes: worker threads running native calls
// ---------------------------------------------------------------------------------------------

class Lane {
  constructor(library, handlers) {
    const signal = new SharedArrayBuffer(4);
    const { port1, port2 } = new MessageChannel();
    this.signal = new Int32Array(signal);
    this.replyPort = port1;
    this.worker = new Worker(LANE_URL, {
      workerData: { library, signal, replyPort: port2 },
      transferList: [port2],
    });
    this.pending = new Map();
    this.nextId = 1;
    this.busy = false;
    this.idleWaiters = [];
    this.failed = null;
    this.handlers = handlers;
    this.worker.on('message', (m) => this.onMessage(m));
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => this.fail(new Error(`libmcpauth worker exited (code ${code})`)));
    this.worker.unref();
    this.replyPort.unref();
  }

  /** Run `op` on this lane; resolves with its value, rejects with McpAuthError. */
  call(op, args) {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    this.busy = true;
    this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, args });
    });
  }

  onMessage(m) {
    if (m.type === 'trace') {
      this.handlers.trace?.(m.event);
      return;
    }
    if (m.type === 'show') {
      this.handlers.show?.(m.what, m.args);
      return;
    }
    if (m.type === 'callback') {
      this.handlers.callback(m.callback, m.args, this);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.#idle();
    if (m.ok) p.resolve(m.value);
    else p.reject(new McpAuthError(m.error));
  }

  #idle() {
    this.busy = false;
    this.worker.unref();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves once no call is running on this lane. */
  whenIdle() {
    if (this.pending.size === 0 || this.failed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Answer a host callback the lane is blocked on. */
  answer(answer) {
    try {
      this.replyPort.postMessage(answer);
    } catch {
      this.replyPort.postMessage({ error: 'the callback returned a value that cannot be passed on' });
    }
    Atomics.store(this.signal, 0, 1);
    Atomics.notify(this.signal, 0);
  }

  fail(error) {
    if (this.failed) return;
    this.failed = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.#idle();
  }

  async terminate() {
    this.failed ??= new ClientClosedError();
    this.replyPort.close();
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

function abortReason(signal) {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * An MCP authorization client for one MCP server. Create it with `McpAuthClient.create`.
 *
 * Every method that can do I/O returns a promise and runs its native call on a worker thread
 * (a "lane"): the event loop keeps running while a flow waits for the network or the user.
 */
export class McpAuthClient {
  #lanes = [];
  #maxLanes = 1;
  #library;
  #api;
  #address = 0;
  #queue = [];
  #closed = false;
  #closing = null;
  #handlers;
  #redirectHandler = null;
  #store = null;
  #waitingLanes = new Set();

  constructor(secret) {
    if (secret !== CREATE) throw new TypeError('use McpAuthClient.create(options)');
  }

  /**
   * Build a client (no network request; with a `loopback` redirect the listener's port is
   * bound). Rejects with `McpAuthError` (`invalid_argument`, `insecure_url`, ...) or
   * `LibraryNotFoundError`.
   */
  static async create(options) {
    const { json, redirectHandler, store } = optionsJson(options);
    const { name, api } = mainLibrary(options.libraryPath);
    const client = new McpAuthClient(CREATE);
    client.#api = api;
    const { onTrace, onAuthorizationUrl, onDeviceCode } = options;
    for (const [name, f] of Object.entries({ onTrace, onAuthorizationUrl, onDeviceCode })) {
      if (f !== undefined && typeof f !== 'function') throw new TypeError(`options.${name} must be a function`);
    }
    const threads = options.threads ?? DEFAULT_THREADS;
    if (!Number.isInteger(threads) || threads < 1) throw new TypeError('options.threads must be an integer >= 1');
    client.#library = name;
    client.#redirectHandler = redirectHandler;
    client.#store = store;
    // Callbacks are registered in the lane that creates the client and may only be invoked
    // from it (see lib/lane.js): a client with callbacks has one lane.
    client.#maxLanes = onTrace || onAuthorizationUrl || onDeviceCode || redirectHandler || store ? 1 : threads;
    client.#handlers = {
      trace: onTrace ? (e) => client.#deliverTrace(onTrace, e) : null,
      show: (what, args) => client.#show({ url: onAuthorizationUrl, deviceCode: onDeviceCode }[what], what, args),
      callback: (name, args, lane) => client.#runCallback(name, args, lane),
    };
    const lane = new Lane(name, client.#handlers);
    client.#lanes.push(lane);
    try {
      client.#address = await lane.call('create', {
        options: json,
        trace: Boolean(onTrace),
        redirect: Boolean(redirectHandler),
        storage: Boolean(store),
        lease: Boolean(store?.lock),
        url: Boolean(onAuthorizationUrl),
        deviceCode: Boolean(onDeviceCode),
      });
    } catch (e) {
      await lane.terminate();
      throw e;
    }
    return client;
  }

  /** Hand what the user must see (the authorization URL, a device code) to the host. */
  #show(handler, what, args) {
    try {
      handler?.(...args);
    } catch (e) {
      const name = what === 'url' ? 'onAuthorizationUrl' : 'onDeviceCode';
      process.emitWarning(`mcp-auth-client: the ${name} callback threw: ${e?.message ?? e}`);
    }
  }

  #deliverTrace(onTrace, eventJson) {
    try {
      onTrace(JSON.parse(eventJson));
    } catch (e) {
      process.emitWarning(`mcp-auth-client: the onTrace callback threw: ${e?.message ?? e}`);
    }
  }

  /** Run a host callback for a lane blocked in a native call, then wake the lane. */
  async #runCallback(name, args, lane) {
    this.#waitingLanes.add(lane);
    let answer;
    try {
      if (name === 'redirect') {
        const url = await this.#redirectHandler(...args);
        answer = { value: url instanceof URL ? url.href : typeof url === 'string' ? url : undefined };
      } else if (name === 'get') {
        const value = await this.#store.get(...args);
        if (value != null && typeof value !== 'string') throw new TypeError('get must return a string or null');
        answer = { value: value ?? null };
      } else if (name === 'set' || name === 'remove' || name === 'lock' || name === 'unlock') {
        await this.#store[name](...args);
        answer = { value: null };
      } else {
        answer = { error: `unknown callback ${name}` };
      }
    } catch (e) {
      const what = name === 'redirect' ? 'the redirect handler' : `the storage's ${name}`;
      answer = { error: `${what} failed: ${e?.message ?? e}` };
    }
    if (this.#waitingLanes.delete(lane)) lane.answer(answer);
  }

  /**
   * Run `op` on a free lane (spawning one up to `threads`), or queue it. With `signal`, an
   * abort removes a queued call, and cancels a call in progress through its own native cancel
   * token (`mcpauth_cancel_token_*`): the promise rejects at once with the abort reason, and
   * the native call ends at its next checkpoint (within about 25 ms in the browser wait; an
   * HTTP request already on the wire finishes first), freeing the lane and the client's flow
   * for the next call. Other calls on the client are not affected.
   */
  #call(op, args, signal) {
    if (this.#closed) return Promise.reject(new ClientClosedError());
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const lane = this.#freeLane();
    if (lane) return this.#dispatch(lane, op, args, signal);
    return new Promise((resolve, reject) => {
      const task = { op, args, resolve, reject, signal, onAbort: null };
      if (signal) {
        task.onAbort = () => {
          const i = this.#queue.indexOf(task);
          if (i >= 0) {
            this.#queue.splice(i, 1);
            reject(abortReason(signal));
          }
        };
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.#queue.push(task);
    });
  }

  #freeLane() {
    const idle = this.#lanes.find((l) => !l.busy && !l.failed);
    if (idle) return idle;
    if (this.#lanes.length < this.#maxLanes && this.#address) {
      const lane = new Lane(this.#library, this.#handlers);
      // Messages are handled in order: the attach runs before the call dispatched next.
      lane.call('attach', { address: this.#address }).catch(() => {});
      this.#lanes.push(lane);
      return lane;
    }
    return null;
  }

  #dispatch(lane, op, args, signal) {
    const settle = () => this.#drain();
    const out = [0];
    const token = signal && this.#api.cancelTokenNew(out) === 0 ? out[0] : 0;
    const p = lane.call(op, token ? { ...args, cancel: token } : args);
    p.then(settle, settle);
    if (!token) return p;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#api.cancelTokenCancel(token);
        reject(abortReason(signal));
      };
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        this.#api.cancelTokenFree(token);
      };
      p.then(done, done);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(resolve, reject);
    });
  }

  #drain() {
    while (this.#queue.length) {
      const lane = this.#freeLane();
      if (!lane) return;
      const task = this.#queue.shift();
      if (task.signal) task.signal.removeEventListener('abort', task.onAbort);
      this.#dispatch(lane, task.op, task.args, task.signal).then(task.resolve, task.reject);
    }
  }

  /**
   * Send an HTTP request with the client's bearer token, running the authorization flow on a
   * 401 (and a 403 `insufficient_scope` step-up), then retrying. A non-2xx answer is still a
   * response; `McpAuthError` with kind `unauthorized` means the server still refused.
   */
  async send(request = {}) {
    const { method = 'POST', url, headers, body, signal } = request;
    let bytes = null;
    if (typeof body === 'string') bytes = new TextEncoder().encode(body);
    else if (body instanceof Uint8Array) bytes = body;
    else if (body != null) throw new TypeError('body must be a string or a Uint8Array');
    return new McpAuthResponse(await this.#call('send', { method, url, headers, body: bytes }, signal));
  }

  /**
   * `send`, resolving as soon as the final response's head has arrived (after the same 401
   * flow and step-up retries), with the body to be read as it comes: a large tool result, a
   * POST answered with `text/event-stream`, a `GET` stream. No body cap unless the
   * `streamMaxBodyBytes` option sets one; `streamIdleTimeoutMs` bounds each wait for more.
   * `signal` aborts the request and, later, the reading (the stream closes).
   */
  async sendStreamed(request = {}) {
    const { method = 'POST', url, headers, body, signal, chunkSize = DEFAULT_CHUNK_SIZE } = request;
    let bytes = null;
    if (typeof body === 'string') bytes = new TextEncoder().encode(body);
    else if (body instanceof Uint8Array) bytes = body;
    else if (body != null) throw new TypeError('body must be a string or a Uint8Array');
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new TypeError('chunkSize must be an integer >= 1');
    const head = await this.#call('sendStreamed', { method, url, headers, body: bytes }, signal);
    // The stream is read on a lane of its own (no client there: only stream calls).
    const lane = new Lane(this.#library, { trace: null, callback: () => {} });
    const stream = new McpAuthStream(head, lane, { chunkSize, signal });
    if (signal?.aborted) await stream.close();
    return stream;
  }

  /** POST a JSON-RPC message (an object or a JSON string) to the MCP endpoint. */
  async postJson(message, options = {}) {
    const body = typeof message === 'string' ? message : JSON.stringify(message);
    return new McpAuthResponse(await this.#call('postJson', { body }, options.signal));
  }

  /** One unauthenticated `initialize` POST: `{status, challenge}` (a diagnostic). */
  probe(options = {}) {
    return this.#call('probe', {}, options.signal);
  }

  /** Run discovery (PRM, then authorization server metadata) and return what was found. */
  discover(options = {}) {
    return this.#call('discover', {}, options.signal);
  }

  /** A valid access token, refreshing or authorizing first when needed. A secret. */
  accessToken(options = {}) {
    return this.#call('accessToken', {}, options.signal);
  }

  /** The token to attach to a request the host sends itself (refreshed when due), or null. */
  currentToken(options = {}) {
    return this.#call('currentToken', {}, options.signal);
  }

  /**
   * After the host's own request was refused (401/403): refresh or authorize, and return the
   * token to retry with, or null when there is nothing to retry.
   */
  authorizeAfter(refusal, options = {}) {
    const { status, wwwAuthenticate = [], rejectedToken = null } = refusal;
    return this.#call('authorizeAfter', { status, wwwAuthenticate, rejectedToken }, options.signal);
  }

  /** The scope granted with the current token, or null. */
  grantedScope(options = {}) {
    return this.#call('grantedScope', {}, options.signal);
  }

  /**
   * Log out: revoke the refresh and access tokens at the authorization server's
   * `revocation_endpoint` (RFC 7009), then forget them, in memory and in storage, whatever the
   * outcome. Resolves to what the server did: `{status: 'revoked' | 'no_tokens' |
   * 'unsupported' | 'failed', reason?}`. Registrations are kept (see `forgetClient`).
   */
  logout(options = {}) {
    return this.#call('logout', {}, options.signal);
  }

  /**
   * Forget the client registration for this server's authorization server (in memory and in
   * storage): the next authorization registers anew. Resolves to that server's issuer.
   * Tokens are kept: `logout` first.
   */
  forgetClient(options = {}) {
    return this.#call('forgetClient', {}, options.signal);
  }

  /** The redirect URI the client registers and sends. */
  redirectUri(options = {}) {
    return this.#call('redirectUri', {}, options.signal);
  }

  /** The storage key of this server's tokens (its canonical resource URL). */
  resourceKey(options = {}) {
    return this.#call('resourceKey', {}, options.signal);
  }

  /** How many worker threads this client runs now (at most `threads`). */
  get threadCount() {
    return this.#lanes.length;
  }

  /** For bench/node: `n` current-token calls in a loop on one lane. @internal */
  benchCurrentToken(n) {
    return this.#call('benchCurrentToken', { n });
  }

  /**
   * Close the client: queued calls reject with `ClientClosedError`, calls already running
   * finish, then the native client is freed and the worker threads stop.
   */
  close() {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close() {
    this.#closed = true;
    for (const task of this.#queue.splice(0)) {
      if (task.signal) task.signal.removeEventListener('abort', task.onAbort);
      task.reject(new ClientClosedError());
    }
    for (const lane of this.#waitingLanes) lane.answer({ error: 'the client was closed' });
    this.#waitingLanes.clear();
    // Let running calls finish: the native client must not be freed under them.
    await Promise.all(this.#lanes.map((l) => l.whenIdle()));
    const [first] = this.#lanes;
    if (first && !first.failed && this.#address) {
      await first.call('free').catch(() => {});
    }
    this.#address = 0;
    await Promise.all(this.#lanes.map((l) => l.terminate()));
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }

  /** Never shows options or tokens. */
  [Symbol.for('nodejs.util.inspect.custom')]() {
    return `McpAuthClient { threads: ${this.#lanes.length}/${this.#maxLanes}${this.#closed ? ', closed' : ''} }`;
  }
}

const CREATE = Symbol('create');
