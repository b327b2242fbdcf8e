// A lane: a worker thread that runs the blocking libmcpauth calls of one client, synchronously,
// so that the main thread's event loop never waits for the network.
//
// Why a worker thread with synchronous calls rather than koffi's `.async()`: libmcpauth keeps the
// details of a failure (message, OAuth error, challenge) in a per-thread "last error", which must
// be read on the thread that made the failing call. `.async()` runs each call on an arbitrary
// libuv pool thread, so the details would be lost; a lane reads them right after the call, on
// its own thread. Callbacks (trace, redirect) are registered in the lane that creates the client
// and are invoked on it while it is inside the native call: koffi requires a callback to be
// called from the thread (JS environment) that registered it, which is why a client with
// callbacks has exactly one lane.
//
// Protocol (structured clone over parentPort):
//   main -> lane: {id, op, args}
//   lane -> main: {id, ok: true, value} | {id, ok: false, error}
//                 {type: 'trace', event}            (a trace event, fire and forget)
//                 {type: 'callback', callback, args} (redirect handler or storage: the lane blocks
//                                                    on `signal` until main posts {value} or
//                                                    {error} on `replyPort`)

import { parentPort, workerData, receiveMessageOnPort } from 'node:worker_threads';
import { koffi, loadExact, declareClient, takeString } from './native.js';

const { lib } = loadExact(workerData.library);
const api = declareClient(lib);
const k = koffi();

let client = 0;
const registered = [];

function lastError(status) {
  const json = api.lastErrorJson();
  const details = json ? JSON.parse(json) : {};
  return {
    status,
    statusName: details.status_name ?? api.statusName(status),
    message: details.message ?? api.statusStr(status),
    oauthError: details.oauth_error ?? null,
    httpStatus: details.http_status ?? null,
    check: details.check ?? null,
    challenge: details.challenge ?? null,
  };
}

class NativeFailure {
  constructor(status) {
    this.error = lastError(status);
  }
}

function check(status) {
  if (status !== 0) throw new NativeFailure(status);
}

/** A `char **` out-parameter call: the string (or null), freed. */
function outString(fn, ...args) {
  const out = [null];
  check(fn(...args, out));
  return takeString(api, out[0]);
}

function outJson(fn, ...args) {
  const s = outString(fn, ...args);
  return s === null ? null : JSON.parse(s);
}

function readResponse(response) {
  try {
    const status = [0];
    check(api.responseStatus(response, status));
    const data = [null];
    const len = [0];
    check(api.responseBody(response, data, len));
    const n = Number(len[0]);
    // Copy the body out of the response before it is freed.
    const body = n === 0 ? new Uint8Array(0) : new Uint8Array(k.view(data[0], n)).slice();
    const authorizations = [0];
    check(api.responseAuthorizations(response, authorizations));
    return {
      status: status[0],
      headers: outJson(api.responseHeaders, response),
      body,
      challenge: outJson(api.responseChallenge, response),
      authorizations: authorizations[0],
      message: outJson(api.responseJsonMessage, response),
    };
  } finally {
    api.responseFree(response);
  }
}

function withResponse(fn, ...args) {
  const out = [0];
  check(fn(...args, out));
  return readResponse(out[0]);
}

/** The head of a new stream; the stream is freed if it cannot be read. */
function streamHead(stream) {
  try {
    const status = [0];
    check(api.streamStatus(stream, status));
    const authorizations = [0];
    check(api.streamAuthorizations(stream, authorizations));
    const eventStream = [false];
    check(api.streamIsEventStream(stream, eventStream));
    return {
      stream,
      status: status[0],
      headers: outJson(api.streamHeaders, stream),
      challenge: outJson(api.streamChallenge, stream),
      authorizations: authorizations[0],
      eventStream: Boolean(eventStream[0]),
    };
  } catch (e) {
    api.streamFree(stream);
    throw e;
  }
}

/** Native read buffers of the streams this lane reads, by stream address. */
const buffers = new Map();

function onTrace(_userdata, eventJson) {
  try {
    parentPort.postMessage({ type: 'trace', event: eventJson });
  } catch {
    // A trace observer must not unwind into the library.
  }
}

/** The authorization URL to show (a notification: the flow goes on waiting on its listener). */
function onUrl(_userdata, authorizationUrl, browserOpened) {
  try {
    parentPort.postMessage({ type: 'show', what: 'url', args: [authorizationUrl, Boolean(browserOpened)] });
  } catch {
    // A display callback must not unwind into the library.
  }
}

/** The RFC 8628 device code to show (a notification: the token endpoint is polled after it). */
function onDeviceCode(_userdata, verificationUri, verificationUriComplete, userCode, expiresIn) {
  try {
    const info = {
      verificationUri,
      verificationUriComplete: verificationUriComplete ?? null,
      userCode,
      expiresIn: Number(expiresIn),
    };
    parentPort.postMessage({ type: 'show', what: 'deviceCode', args: [info] });
  } catch {
    // A display callback must not unwind into the library.
  }
}

const signal = new Int32Array(workerData.signal);
const replyPort = workerData.replyPort;

/**
 * Ask the main thread to run a host callback and block this lane (never the main thread) until
 * it has answered: `{value}` or `{error}`.
 */
function askMain(request) {
  Atomics.store(signal, 0, 0);
  parentPort.postMessage({ type: 'callback', ...request });
  Atomics.wait(signal, 0, 0);
  let answer = receiveMessageOnPort(replyPort)?.message;
  while (answer === undefined) {
    // The answer is posted before the wake-up; wait for its delivery if it is not there yet.
    Atomics.wait(signal, 0, 1, 50);
    answer = receiveMessageOnPort(replyPort)?.message;
  }
  return answer;
}

/** Fill `reply` from an answer; the callback's return value (0: success). */
function answerReply(answer, reply) {
  if (answer.error !== undefined) {
    api.replySetError(reply, String(answer.error));
    return 1;
  }
  if (typeof answer.value === 'string') return api.replySetValue(reply, answer.value) === 0 ? 0 : 1;
  return 0;
}

function onRedirect(_userdata, authorizationUrl, reply) {
  try {
    const answer = askMain({ callback: 'redirect', args: [authorizationUrl] });
    if (answer.error === undefined && typeof answer.value !== 'string') {
      answer.error = 'the redirect handler did not return a redirect URL';
    }
    return answerReply(answer, reply);
  } catch {
    return 1;
  }
}

function onStorageGet(_userdata, kind, key, reply) {
  try {
    return answerReply(askMain({ callback: 'get', args: [kind, key] }), reply);
  } catch {
    return 1;
  }
}

function onStorageSet(_userdata, kind, key, valueJson, reply) {
  try {
    return answerReply(askMain({ callback: 'set', args: [kind, key, valueJson] }), reply);
  } catch {
    return 1;
  }
}

function onStorageRemove(_userdata, kind, key, reply) {
  try {
    return answerReply(askMain({ callback: 'remove', args: [kind, key] }), reply);
  } catch {
    return 1;
  }
}

/** The store's refresh lease (docs/fleet.md): resolves once held, rejects when it cannot be. */
function onStorageLock(_userdata, key, owner, ttlMs, reply) {
  try {
    return answerReply(askMain({ callback: 'lock', args: [key, owner, Number(ttlMs)] }), reply);
  } catch {
    return 1;
  }
}

function onStorageUnlock(_userdata, key, owner, reply) {
  try {
    return answerReply(askMain({ callback: 'unlock', args: [key, owner] }), reply);
  } catch {
    return 1;
  }
}

const ops = {
  create({ options, trace, redirect, storage, lease, url, deviceCode }) {
    const config = [0];
    check(api.configNew(options, config));
    try {
      if (trace) {
        const cb = k.register(onTrace, k.pointer(api.protos.trace));
        registered.push(cb);
        check(api.configSetTrace(config[0], cb, null));
      }
      if (url) {
        const cb = k.register(onUrl, k.pointer(api.protos.url));
        registered.push(cb);
        check(api.configSetUrlHandler(config[0], cb, null));
      }
      if (deviceCode) {
        const cb = k.register(onDeviceCode, k.pointer(api.protos.deviceCode));
        registered.push(cb);
        check(api.configSetDeviceCodeHandler(config[0], cb, null));
      }
      if (redirect) {
        const cb = k.register(onRedirect, k.pointer(api.protos.redirect));
        registered.push(cb);
        check(api.configSetRedirect(config[0], cb, null));
      }
      if (storage) {
        const get = k.register(onStorageGet, k.pointer(api.protos.storageGet));
        const set = k.register(onStorageSet, k.pointer(api.protos.storageSet));
        const remove = k.register(onStorageRemove, k.pointer(api.protos.storageRemove));
        registered.push(get, set, remove);
        check(api.configSetStorage(config[0], get, set, remove, null));
        if (lease) {
          const lock = k.register(onStorageLock, k.pointer(api.protos.storageLock));
          const unlock = k.register(onStorageUnlock, k.pointer(api.protos.storageUnlock));
          registered.push(lock, unlock);
          check(api.configSetStorageLease(config[0], lock, unlock));
        }
      }
      const out = [0];
      check(api.clientNew(config[0], out));
      client = out[0];
    } finally {
      api.configFree(config[0]);
    }
    return client;
  },
  attach({ address }) {
    client = address;
    return null;
  },
  free() {
    api.clientFree(client);
    client = 0;
    for (const cb of registered.splice(0)) k.unregister(cb);
    return null;
  },
  send({ method, url, headers, body }) {
    const bytes = body ?? null;
    return withResponse(
      api.send,
      client,
      method,
      url ?? null,
      headers ? JSON.stringify(headers) : null,
      bytes,
      bytes ? bytes.length : 0,
    );
  },
  sendStreamed({ method, url, headers, body }) {
    const bytes = body ?? null;
    const out = [0];
    check(
      api.sendStreamed(
        client,
        method,
        url ?? null,
        headers ? JSON.stringify(headers) : null,
        bytes,
        bytes ? bytes.length : 0,
        out,
      ),
    );
    return streamHead(out[0]);
  },
  /** The next bytes of a stream (a copy, transferred to the main thread), or null at its end. */
  streamRead({ stream, size }) {
    let buf = buffers.get(stream);
    if (!buf || buf.size !== size) {
      if (buf) k.free(buf.mem);
      buf = { mem: k.alloc('uint8_t', size), size };
      buffers.set(stream, buf);
    }
    const len = [0];
    check(api.streamRead(stream, buf.mem, size, len));
    const n = Number(len[0]);
    return n === 0 ? null : new Uint8Array(k.view(buf.mem, n)).slice();
  },
  /** The next server-sent event of a stream, or null at its end. */
  streamNextEvent({ stream }) {
    const e = outJson(api.streamNextEvent, stream);
    return e === null ? null : { event: e.event, data: e.data, id: e.id, retry: e.retry_ms };
  },
  streamFree({ stream }) {
    api.streamFree(stream);
    const buf = buffers.get(stream);
    if (buf) k.free(buf.mem);
    buffers.delete(stream);
    return null;
  },
  postJson({ body }) {
    return withResponse(api.postJson, client, body);
  },
  probe: () => outJson(api.probe, client),
  discover: () => outJson(api.discover, client),
  accessToken: () => outString(api.accessToken, client),
  currentToken: () => outString(api.currentToken, client),
  authorizeAfter: ({ status, wwwAuthenticate, rejectedToken }) =>
    outString(
      api.authorizeAfter,
      client,
      status,
      wwwAuthenticate ? JSON.stringify(wwwAuthenticate) : null,
      rejectedToken ?? null,
    ),
  grantedScope: () => outString(api.grantedScope, client),
  logout: () => outJson(api.logoutReport, client),
  forgetClient: () => outString(api.forgetClient, client),
  redirectUri: () => outString(api.redirectUri, client),
  resourceKey: () => outString(api.resourceKey, client),
  /** For bench/node: `n` current-token calls in a loop on this thread. */
  benchCurrentToken({ n }) {
    const out = [null];
    for (let i = 0; i < n; i++) {
      check(api.currentToken(client, out));
      api.stringFree(out[0]);
    }
    return null;
  },
};

parentPort.on('message', ({ id, op, args }) => {
  let reply;
  try {
    const fn = ops[op];
    if (!fn) throw new Error(`unknown operation ${op}`);
    // A per-call cancel token (an AbortSignal on the main thread cancels it): this call
    // runs under it, and only this call.
    const cancel = args?.cancel;
    if (cancel) check(api.cancelTokenBind(cancel));
    try {
      reply = { id, ok: true, value: fn(args ?? {}) };
    } finally {
      if (cancel) api.cancelTokenBind(0);
    }
  } catch (e) {
    reply =
      e instanceof NativeFailure
        ? { id, ok: false, error: e.error }
        : { id, ok: false, error: { status: -1, statusName: 'BINDING', message: String(e?.message ?? e) } };
  }
  // A chunk of a stream moves to the main thread without a copy.
  parentPort.postMessage(reply, reply.value instanceof Uint8Array ? [reply.value.buffer] : []);
});
