// Type definitions for mcp-auth-client (hand-written; checked by `tsc` against test/types.ts).

/** The C ABI this package is written against (`MCPAUTH_ABI_VERSION`). */
export declare const ABI_VERSION: 1;

/** The error kinds: the C status names (`mcpauth_status`) in lower case. */
export type ErrorKind =
  | 'invalid_argument'
  | 'null_argument'
  | 'invalid_utf8'
  | 'transport'
  | 'timeout'
  | 'response_too_large'
  | 'certificate'
  | 'invalid_response'
  | 'discovery'
  | 'registration'
  | 'authorization'
  | 'token'
  | 'unauthorized'
  | 'security_check'
  | 'insecure_url'
  | 'unsupported'
  | 'address_refused'
  | 'foreign_origin'
  | 'storage'
  | 'internal'
  | 'panic'
  | 'unknown'
  | 'binding';

/** The OAuth error of a failure (RFC 6749 §5.2, §4.1.2.1; RFC 6750 §3). Server-supplied text. */
export interface OAuthErrorInfo {
  error: string;
  errorDescription: string | null;
  errorUri: string | null;
}

/** A parsed `WWW-Authenticate` challenge as the library reports it. */
export interface ChallengeInfo {
  status?: number;
  www_authenticate?: string[];
  challenges?: Array<{ scheme: string; token68: string | null; params: Array<[string, string]> }>;
  bearer?: BearerChallenge | null;
  [member: string]: unknown;
}

export interface BearerChallenge {
  error: string | null;
  error_description: string | null;
  error_uri: string | null;
  scope: string | null;
  resource_metadata: string | null;
  realm: string | null;
}

/** A failure reported by libmcpauth. Messages never contain secrets. */
export declare class McpAuthError extends Error {
  readonly name: 'McpAuthError';
  /** The C status name in lower case, e.g. `token`, `unauthorized`, `security_check`. */
  readonly kind: ErrorKind;
  /** The numeric `mcpauth_status` (100–199 bad argument, 200–299 transport, 300–399 protocol, 400–499 security, 500–599 storage, 900+ internal). */
  readonly status: number;
  readonly oauthError: OAuthErrorInfo | null;
  /** The HTTP status the failure carried (e.g. the token endpoint's 400), or null. */
  readonly httpStatus: number | null;
  /** For `security_check`: `metadata_issuer`, `response_iss`, `missing_iss`, `resource`, `state`, `credential_issuer`. */
  readonly check: string | null;
  /** For `unauthorized`: the server's final challenge. */
  readonly challenge: ChallengeInfo | null;
}

/** Raised by calls on a closed client. */
export declare class ClientClosedError extends Error {
  readonly name: 'ClientClosedError';
}

/** libmcpauth could not be found (the message names `MCPAUTH_LIB`, `libraryPath` and what was tried) or has another ABI. */
export declare class LibraryNotFoundError extends Error {
  readonly name: 'LibraryNotFoundError';
}

/** One step of the flow (`mcpauth_trace_fn`). Never carries secrets. */
export interface TraceEvent {
  step: string;
  method?: string;
  url?: string;
  status?: number | null;
  /** Microseconds. */
  duration: number;
  outcome: 'ok' | 'fallback' | 'failed';
  detail: string;
  [member: string]: unknown;
}

/**
 * The host's token store (`mcpauth_client_config_set_storage`): a key-value store of JSON
 * documents. `kind` is `tokens` (key: the resource URL) or `client_info` (key: the issuer); answer
 * null for a kind you do not know. Values hold tokens and client secrets: keep them safe. Methods
 * may be async; they run on the main thread while the client waits, and must not call the same
 * client. A throwing method fails the operation with kind `storage`.
 */
export interface TokenStorage {
  get(kind: string, key: string): string | null | undefined | Promise<string | null | undefined>;
  set(kind: string, key: string, valueJson: string): void | Promise<void>;
  remove(kind: string, key: string): void | Promise<void>;
  /**
   * The cross-process refresh lease (docs/fleet.md; optional, with `unlock`): take the lease on
   * `key` (the resource URL) for `owner` (unique to this acquisition), waiting while another
   * owner holds it; resolve once held, throw when it cannot be taken (the store is unreachable,
   * or others held it for about `ttlMs`): the call then fails with kind `storage` rather than
   * risk presenting a refresh token twice. The lease must end by itself at most `ttlMs` after it
   * was taken, or when its holder dies. Without `lock`/`unlock`, the clients sharing the store
   * refresh independently (one refresh per client, not per store).
   */
  lock?(key: string, owner: string, ttlMs: number): void | Promise<void>;
  /** Release the lease `owner` took on `key`, only if `owner` still holds it. */
  unlock?(key: string, owner: string): void | Promise<void>;
}

export type StorageOptions =
  | { type: 'memory' }
  | { type: 'file'; path?: string }
  | { type: 'custom'; store: TokenStorage };

/**
 * How the authorization redirect is completed. Absent: `loopback` (the system browser, RFC 8252)
 * for the authorization code grant, on the first of `redirectUris` when it is a loopback one.
 */
export type RedirectOptions =
  /** Follow the authorization URL without a browser: only for auto-approving servers and tests. */
  | { type: 'headless' }
  /**
   * A listener on 127.0.0.1 and the system browser (`openBrowser`, default true); `onAuthorizationUrl`
   * shows the URL too. Without a browser and without `onAuthorizationUrl` a login fails at once.
   */
  | { type: 'loopback'; port?: number; timeoutSecs?: number; openBrowser?: boolean; host?: '127.0.0.1' | 'localhost'; path?: string }
  /** Paste-back: print the URL, read the redirected URL from stdin (docs/providers.md). */
  | { type: 'paste'; redirectUri?: string; port?: number; timeoutSecs?: number }
  /** The RFC 8628 device authorization grant: the code goes to `onDeviceCode` (else the log and the trace). */
  | { type: 'device'; openBrowser?: boolean }
  | {
      type: 'callback';
      /** The redirect URI registered and sent (default: the first of `redirectUris`, else `http://localhost:3000/callback`). */
      redirectUri?: string;
      /**
       * Send the user to `authorizationUrl` and resolve with the URL (or query string) the
       * authorization server redirected to. Reject to fail the authorization. Runs on the main
       * thread; the flow waits for it on its worker thread.
       */
      handler: (authorizationUrl: string) => string | URL | Promise<string | URL>;
    };

/**
 * Per-server overrides (docs/providers.md). Parameter names inside `authorizationParams` and
 * `tokenParams` are sent as written (`access_type`, `audience`).
 */
export interface ServerOverrides {
  /** `false`: never send the RFC 8707 `resource`; a string: send it instead. */
  resource?: boolean | string;
  authorizationParams?: Record<string, string>;
  tokenParams?: Record<string, string>;
  /** `auto` (default: `consent` only for OpenID Connect offline requests), `omit`, or the value. */
  prompt?: string;
  scope?: string;
  dropScopes?: string[];
  authorizationServer?: string;
  trustedIssuers?: { issuer: string; metadataUrl: string }[];
  tenantIssuer?: boolean;
}

/** Client options: `ClientOptions` of the core (core/src/options.rs), in camelCase. */
export interface ClientOptions {
  /** The MCP server URL. Required. */
  serverUrl: string;
  clientName?: string;
  redirectUris?: string[];
  /** A scope to request when the server names none. */
  scope?: string;
  /** A Client ID Metadata Document URL (CIMD). */
  clientMetadataUrl?: string;
  /**
   * RFC 7591 client metadata for dynamic registration, member names as written (snake_case:
   * `token_endpoint_auth_method`, `scope`, `grant_types`, `client_uri`, `logo_uri`, `contacts`,
   * `software_id`, ...), laid over what the client registers by default: a member given wins
   * (the redirect URI a redirect handler dictates stays first). With `clientId` it is an error
   * (nothing is registered).
   */
  clientMetadata?: Record<string, unknown>;
  /** Pre-registered client. */
  clientId?: string;
  clientSecret?: string;
  /** The pre-registered client's method; only with `clientId` (dynamic registration: `clientMetadata.token_endpoint_auth_method`). */
  tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | (string & {});
  privateKeyPem?: string;
  signingAlgorithm?: 'ES256' | 'RS256';
  clientIssuer?: string;
  grant?: 'authorization_code' | 'client_credentials' | 'jwt_bearer' | 'enterprise_managed' | 'device_code' | (string & {});
  assertion?: string;
  idpTokenEndpoint?: string;
  idpClientId?: string;
  idpClientSecret?: string;
  idToken?: string;
  dpop?: 'auto' | 'always' | 'never';
  /** HTTP timeout in milliseconds (default 30000) of OAuth requests and of `send`'s head. */
  timeoutMs?: number;
  /** Body cap of OAuth responses (default 1 MiB). */
  maxBodyBytes?: number;
  /** Connection timeout in milliseconds. */
  connectTimeoutMs?: number;
  /** MCP responses (`send`, `sendStreamed`): the longest wait for more of the body (default 5 minutes; 0 for none). */
  streamIdleTimeoutMs?: number;
  /** MCP responses: a body cap in bytes (default none). */
  streamMaxBodyBytes?: number;
  userAgent?: string;
  protocolVersion?: string;
  requirePkceS256?: boolean;
  refreshSkewSecs?: number;
  maxAuthorizations?: number;
  preferredIssuer?: string;
  allowInsecureServerUrl?: boolean;
  /** Addresses server-supplied URLs may reach although the address policy refuses their class: host names, `*.domain`, addresses, CIDR blocks (`10.0.0.0/8`). */
  allowedAddresses?: string[];
  /** `send` to another origin than the MCP server's: `refuse` (default, rejects with `foreign_origin`) or `without_token`. */
  crossOrigin?: 'refuse' | 'without_token';
  storage?: StorageOptions;
  redirect?: RedirectOptions;
  /** Provider profile: `auto` (default), `none`, `entra`, `auth0`, `google`, `github`, `slack`, `cognito`. */
  provider?: string;
  overrides?: ServerOverrides;

  // --- Node only ---
  /** The libmcpauth file (after `$MCPAUTH_LIB`, before the system loader). */
  libraryPath?: string;
  /** Worker threads running this client's native calls (default 4; 1 with `onTrace`, `onAuthorizationUrl`, `onDeviceCode`, a callback redirect or a custom store). */
  threads?: number;
  /** Receives every step of the flow, on the main thread. */
  onTrace?: (event: TraceEvent) => void;
  /**
   * Receives the authorization URL of a `loopback` (also the default) or `paste` redirect, and
   * whether a browser was started on it, on the main thread: show it to the user (the library
   * never prints it). The flow goes on waiting for the redirect meanwhile.
   */
  onAuthorizationUrl?: (authorizationUrl: string, browserOpened: boolean) => void;
  /** Receives the RFC 8628 device code of a `device` redirect, on the main thread: show it to the user. */
  onDeviceCode?: (info: DeviceCode) => void;
}

/** An RFC 8628 device authorization, as shown to the user. */
export interface DeviceCode {
  verificationUri: string;
  /** The URI with the code in it (to open, or show as a QR code), if the server gave one. */
  verificationUriComplete: string | null;
  userCode: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

/** Options of every asynchronous call. */
/** What `logout` did at the authorization server (RFC 7009); the tokens are forgotten anyway. */
export interface Revocation {
  status: 'revoked' | 'no_tokens' | 'unsupported' | 'failed';
  /** Why, for `failed` (no secrets). */
  reason?: string;
}

export interface CallOptions {
  /**
   * Aborting rejects with the signal's reason at once. A call still queued (waiting for a
   * free worker thread) is dropped; a native call in progress is cancelled through its own
   * cancel token and ends at its next checkpoint (within about 25 ms in the browser wait; an
   * HTTP request already on the wire finishes first), freeing the client's flow for the next
   * call. Other calls are not affected.
   */
  signal?: AbortSignal;
}

export interface SendRequest extends CallOptions {
  /** Default `POST`. */
  method?: string;
  /** Default: the configured server URL. */
  url?: string;
  /** Extra headers; an `Authorization` header is replaced by the client's. */
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

export declare class McpAuthResponse {
  readonly status: number;
  readonly ok: boolean;
  /** `[name, value]` pairs, names lowercased, in order. */
  readonly headers: Array<[string, string]>;
  readonly body: Uint8Array;
  /** The last 401/403 challenge seen while sending, or null. */
  readonly challenge: ChallengeInfo | null;
  /** Tokens acquired (authorizations or refreshes) while sending. */
  readonly authorizations: number;
  /** The JSON-RPC message of the body (JSON, or the first SSE `data:` event), or null. */
  readonly message: unknown;
  header(name: string): string | null;
  text(): string;
  json<T = unknown>(): T;
}

export interface SendStreamedRequest extends SendRequest {
  /** The most bytes one chunk holds (default 65536). */
  chunkSize?: number;
}

/** A server-sent event (WHATWG HTML §9.2.6). */
export interface ServerSentEvent {
  /** The event type (`message` when the event named none). */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
  /** The last event ID (for `Last-Event-ID` on reconnection), or null. */
  id: string | null;
  /** The reconnection time in milliseconds last set by the stream, or null. */
  retry: number | null;
}

/**
 * The response of `sendStreamed`: the head at once, the body as it arrives. Iterate it for
 * `Uint8Array` chunks, or `events()` for server-sent events (one or the other). Reads run on a
 * worker thread of the stream's own.
 */
export declare class McpAuthStream implements AsyncIterable<Uint8Array>, AsyncDisposable {
  private constructor();
  readonly status: number;
  readonly ok: boolean;
  /** `[name, value]` pairs, names lowercased, in order. */
  readonly headers: Array<[string, string]>;
  /** The last 401/403 challenge seen while sending, or null. */
  readonly challenge: ChallengeInfo | null;
  /** Tokens acquired (authorizations or refreshes) while sending. */
  readonly authorizations: number;
  /** Whether the body is `text/event-stream`. */
  readonly isEventStream: boolean;
  header(name: string): string | null;
  /** The next chunk, or null at the end of the body. */
  read(): Promise<Uint8Array | null>;
  /** The next event, or null at the end of the stream. */
  nextEvent(): Promise<ServerSentEvent | null>;
  /** The chunks of the body; the stream closes when the loop ends. */
  [Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined>;
  /** The events of the body; the stream closes when the loop ends. */
  events(): AsyncGenerator<ServerSentEvent, void, undefined>;
  /** The rest of the body at once (small bodies), then closes. */
  bytes(): Promise<Uint8Array>;
  /** Close the connection (if the body was not read to its end). Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Raised by reads of a stream after `close()`. */
export declare class StreamClosedError extends Error {}

export interface ProbeResult {
  status: number;
  challenge: ChallengeInfo | null;
}

export interface DiscoveryResult {
  protected_resource: Record<string, unknown> | null;
  protected_resource_url: string | null;
  authorization_server: string | null;
  metadata: Record<string, unknown> | null;
  metadata_url: string | null;
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint: string | null;
  resource: string | null;
  [member: string]: unknown;
}

export interface Refusal {
  /** 401 or 403. */
  status: number;
  /** Every `WWW-Authenticate` value of the refused response. */
  wwwAuthenticate?: string[];
  /** The token the server refused (from `currentToken`), or null. */
  rejectedToken?: string | null;
}

/** An MCP authorization client for one MCP server. */
export declare class McpAuthClient implements AsyncDisposable {
  private constructor();
  static create(options: ClientOptions): Promise<McpAuthClient>;
  send(request?: SendRequest): Promise<McpAuthResponse>;
  /** `send`, resolving at the head with the body read as it arrives (no cap by default, the idle timeout). */
  sendStreamed(request?: SendStreamedRequest): Promise<McpAuthStream>;
  postJson(message: object | string, options?: CallOptions): Promise<McpAuthResponse>;
  probe(options?: CallOptions): Promise<ProbeResult>;
  discover(options?: CallOptions): Promise<DiscoveryResult>;
  /** A valid access token (a secret), refreshing or authorizing first when needed. */
  accessToken(options?: CallOptions): Promise<string>;
  /** The token to attach to a request the host sends itself, or null (never authorizes). */
  currentToken(options?: CallOptions): Promise<string | null>;
  authorizeAfter(refusal: Refusal, options?: CallOptions): Promise<string | null>;
  grantedScope(options?: CallOptions): Promise<string | null>;
  /** Revoke (RFC 7009), then forget the tokens whatever the outcome. */
  logout(options?: CallOptions): Promise<Revocation>;
  /** Forget the client registration; resolves to the authorization server's issuer. */
  forgetClient(options?: CallOptions): Promise<string>;
  redirectUri(options?: CallOptions): Promise<string>;
  resourceKey(options?: CallOptions): Promise<string>;
  /** Worker threads running now. */
  readonly threadCount: number;
  /** Queued calls reject, running calls finish, then the client is freed. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** @internal bench/node */
  benchCurrentToken(n: number): Promise<null>;
}

/** The options JSON passed to `mcpauth_client_config_new` (holds secrets when the options do). */
export declare function optionsJson(options: ClientOptions): {
  json: string;
  redirectHandler: ((authorizationUrl: string) => string | URL | Promise<string | URL>) | null;
  store: TokenStorage | null;
};

export interface LibraryOptions {
  libraryPath?: string;
}

/** Where libmcpauth was loaded from. */
export declare function libraryPath(options?: LibraryOptions): string;
/** The version of the loaded libmcpauth. */
export declare function version(options?: LibraryOptions): string;

export interface ParsedWwwAuthenticate {
  challenges: Array<{ scheme: string; token68: string | null; params: Array<[string, string]> }>;
  bearer: BearerChallenge | null;
}

/** Parse a `WWW-Authenticate` value (synchronous, no I/O). */
export declare function parseWwwAuthenticate(value: string, options?: LibraryOptions): ParsedWwwAuthenticate;
