// Loading libmcpauth and declaring its C ABI (include/mcpauth.h) for koffi.
//
// Used on the main thread (library lookup, pure functions) and in every lane worker (lane.js),
// each of which loads its own koffi instance. Handles (`mcpauth_client *`, ...) cross threads as
// integer addresses, so every handle parameter is declared `uintptr_t` here: the same ABI class
// as a pointer on every platform koffi supports.

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The C ABI this package is written against (`MCPAUTH_ABI_VERSION` of include/mcpauth.h). */
export const ABI_VERSION = 1;

let koffiModule = null;

/** koffi, loaded on first use (so that importing the package stays cheap). */
export function koffi() {
  koffiModule ??= require('koffi');
  return koffiModule;
}

/** The file names the system loader is asked for, most specific first. */
export function systemLibraryNames(platform = process.platform) {
  switch (platform) {
    case 'darwin':
      return [`libmcpauth.${ABI_VERSION}.dylib`, 'libmcpauth.dylib'];
    case 'win32':
      return ['mcpauth.dll', 'libmcpauth.dll'];
    default:
      return [`libmcpauth.so.${ABI_VERSION}`, 'libmcpauth.so'];
  }
}

/** Raised when libmcpauth cannot be found or is not the ABI this package speaks. */
export class LibraryNotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LibraryNotFoundError';
  }
}

/**
 * Where libmcpauth is: `$MCPAUTH_LIB`, then `libraryPath` (an option), then the system loader
 * (`libmcpauth.so.1` / `libmcpauth.1.dylib` / `mcpauth.dll` on its usual search path). Returns
 * the loaded koffi library and the name it was loaded by.
 */
export function openLibrary(libraryPath) {
  const k = koffi();
  const tried = [];
  const explicit = [];
  if (process.env.MCPAUTH_LIB) explicit.push(['MCPAUTH_LIB', process.env.MCPAUTH_LIB]);
  if (libraryPath) explicit.push(['the libraryPath option', libraryPath]);
  for (const [origin, p] of explicit) {
    const file = path.resolve(p);
    if (!fs.existsSync(file)) {
      tried.push(`${file} (from ${origin}: no such file)`);
      continue;
    }
    try {
      return checkAbi(k.load(file), file);
    } catch (e) {
      if (e instanceof LibraryNotFoundError) throw e;
      tried.push(`${file} (from ${origin}: ${e.message})`);
    }
  }
  if (explicit.length === 0) {
    for (const name of systemLibraryNames()) {
      try {
        return checkAbi(k.load(name), name);
      } catch (e) {
        if (e instanceof LibraryNotFoundError) throw e;
        tried.push(`${name} (system loader: ${e.message.split('\n')[0]})`);
      }
    }
  }
  throw new LibraryNotFoundError(
    'libmcpauth not found. Set MCPAUTH_LIB to the library file, pass the libraryPath option, ' +
      'or install it where the system loader finds it (make install; ldconfig). Tried: ' +
      tried.join('; '),
  );
}

/** Load exactly `name` (a path or a system loader name found by `openLibrary` earlier). */
export function loadExact(name) {
  return checkAbi(koffi().load(name), name);
}

function checkAbi(lib, name) {
  const abi = lib.func('uint32_t mcpauth_abi_version(void)')();
  if (abi !== ABI_VERSION) {
    throw new LibraryNotFoundError(
      `${name} speaks C ABI ${abi}, this package needs ABI ${ABI_VERSION}: install matching versions`,
    );
  }
  return { lib, name };
}

let protoCache = null;

/** The callback prototypes (declared once per koffi instance, i.e. once per thread). */
export function protos() {
  if (protoCache === null) {
    const k = koffi();
    k.opaque('mcpauth_reply');
    protoCache = {
      trace: k.proto('void mcpauth_trace_fn(void *userdata, const char *event_json)'),
      url: k.proto('void mcpauth_url_fn(void *userdata, const char *authorization_url, bool browser_opened)'),
      deviceCode: k.proto(
        'void mcpauth_device_code_fn(void *userdata, const char *verification_uri, const char *verification_uri_complete, const char *user_code, uint64_t expires_in)',
      ),
      redirect: k.proto(
        'int32_t mcpauth_redirect_fn(void *userdata, const char *authorization_url, mcpauth_reply *reply)',
      ),
      storageGet: k.proto(
        'int32_t mcpauth_storage_get_fn(void *userdata, const char *kind, const char *key, mcpauth_reply *reply)',
      ),
      storageSet: k.proto(
        'int32_t mcpauth_storage_set_fn(void *userdata, const char *kind, const char *key, const char *value_json, mcpauth_reply *reply)',
      ),
      storageRemove: k.proto(
        'int32_t mcpauth_storage_remove_fn(void *userdata, const char *kind, const char *key, mcpauth_reply *reply)',
      ),
      storageLock: k.proto(
        'int32_t mcpauth_storage_lock_fn(void *userdata, const char *key, const char *owner, uint64_t ttl_ms, mcpauth_reply *reply)',
      ),
      storageUnlock: k.proto(
        'int32_t mcpauth_storage_unlock_fn(void *userdata, const char *key, const char *owner, mcpauth_reply *reply)',
      ),
    };
  }
  return protoCache;
}

/** Functions with no handle: usable from any thread. */
export function declarePure(lib) {
  return {
    version: lib.func('const char *mcpauth_version(void)'),
    abiVersion: lib.func('uint32_t mcpauth_abi_version(void)'),
    statusName: lib.func('const char *mcpauth_status_name(int32_t status)'),
    statusStr: lib.func('const char *mcpauth_status_str(int32_t status)'),
    lastErrorJson: lib.func('const char *mcpauth_last_error_json(void)'),
    stringFree: lib.func('void mcpauth_string_free(void *s)'),
    cancelTokenNew: lib.func('int32_t mcpauth_cancel_token_new(_Out_ uintptr_t *out)'),
    cancelTokenCancel: lib.func('int32_t mcpauth_cancel_token_cancel(uintptr_t token)'),
    cancelTokenBind: lib.func('int32_t mcpauth_cancel_token_bind(uintptr_t token)'),
    cancelTokenFree: lib.func('void mcpauth_cancel_token_free(uintptr_t token)'),
    parseWwwAuthenticate: lib.func(
      'int32_t mcpauth_parse_www_authenticate(const char *www_authenticate, _Out_ void **out_json)',
    ),
  };
}

/** The client functions, for a lane worker (handles as `uintptr_t`). */
export function declareClient(lib) {
  const p = protos();
  return {
    ...declarePure(lib),
    configNew: lib.func('int32_t mcpauth_client_config_new(const char *options_json, _Out_ uintptr_t *out)'),
    configFree: lib.func('void mcpauth_client_config_free(uintptr_t config)'),
    configSetTrace: lib.func(
      'int32_t mcpauth_client_config_set_trace(uintptr_t config, mcpauth_trace_fn *observer, void *userdata)',
    ),
    configSetUrlHandler: lib.func(
      'int32_t mcpauth_client_config_set_url_handler(uintptr_t config, mcpauth_url_fn *handler, void *userdata)',
    ),
    configSetDeviceCodeHandler: lib.func(
      'int32_t mcpauth_client_config_set_device_code_handler(uintptr_t config, mcpauth_device_code_fn *handler, void *userdata)',
    ),
    configSetRedirect: lib.func(
      'int32_t mcpauth_client_config_set_redirect_handler(uintptr_t config, mcpauth_redirect_fn *handler, void *userdata)',
    ),
    configSetStorage: lib.func(
      'int32_t mcpauth_client_config_set_storage(uintptr_t config, mcpauth_storage_get_fn *get, mcpauth_storage_set_fn *set, mcpauth_storage_remove_fn *remove, void *userdata)',
    ),
    configSetStorageLease: lib.func(
      'int32_t mcpauth_client_config_set_storage_lease(uintptr_t config, mcpauth_storage_lock_fn *lock, mcpauth_storage_unlock_fn *unlock)',
    ),
    replySetValue: lib.func('int32_t mcpauth_reply_set_value(mcpauth_reply *reply, const char *value)'),
    replySetError: lib.func('int32_t mcpauth_reply_set_error(mcpauth_reply *reply, const char *message)'),
    clientNew: lib.func('int32_t mcpauth_client_new(uintptr_t config, _Out_ uintptr_t *out)'),
    clientFree: lib.func('void mcpauth_client_free(uintptr_t client)'),
    send: lib.func(
      'int32_t mcpauth_client_send(uintptr_t client, const char *method, const char *url, const char *headers_json, const uint8_t *body, size_t body_len, _Out_ uintptr_t *out)',
    ),
    postJson: lib.func('int32_t mcpauth_client_post_json(uintptr_t client, const char *json_body, _Out_ uintptr_t *out)'),
    probe: lib.func('int32_t mcpauth_client_probe(uintptr_t client, _Out_ void **out_json)'),
    discover: lib.func('int32_t mcpauth_client_discover(uintptr_t client, _Out_ void **out_json)'),
    accessToken: lib.func('int32_t mcpauth_client_access_token(uintptr_t client, _Out_ void **out_token)'),
    currentToken: lib.func('int32_t mcpauth_client_current_token(uintptr_t client, _Out_ void **out_token)'),
    authorizeAfter: lib.func(
      'int32_t mcpauth_client_authorize_after(uintptr_t client, uint16_t status, const char *www_authenticate_json, const char *rejected_token, _Out_ void **out_token)',
    ),
    grantedScope: lib.func('int32_t mcpauth_client_granted_scope(uintptr_t client, _Out_ void **out)'),
    logout: lib.func('int32_t mcpauth_client_logout(uintptr_t client)'),
    logoutReport: lib.func('int32_t mcpauth_client_logout_report(uintptr_t client, _Out_ void **out)'),
    forgetClient: lib.func('int32_t mcpauth_client_forget_client(uintptr_t client, _Out_ void **issuer_out)'),
    redirectUri: lib.func('int32_t mcpauth_client_redirect_uri(uintptr_t client, _Out_ void **out)'),
    resourceKey: lib.func('int32_t mcpauth_client_resource_key(uintptr_t client, _Out_ void **out)'),
    responseFree: lib.func('void mcpauth_response_free(uintptr_t response)'),
    responseStatus: lib.func('int32_t mcpauth_response_status(uintptr_t response, _Out_ uint16_t *out)'),
    responseBody: lib.func(
      'int32_t mcpauth_response_body(uintptr_t response, _Out_ void **out_data, _Out_ size_t *out_len)',
    ),
    responseHeaders: lib.func('int32_t mcpauth_response_headers_json(uintptr_t response, _Out_ void **out_json)'),
    responseChallenge: lib.func('int32_t mcpauth_response_challenge_json(uintptr_t response, _Out_ void **out_json)'),
    responseAuthorizations: lib.func(
      'int32_t mcpauth_response_authorizations(uintptr_t response, _Out_ uint32_t *out)',
    ),
    responseJsonMessage: lib.func('int32_t mcpauth_response_json_message(uintptr_t response, _Out_ void **out_json)'),
    sendStreamed: lib.func(
      'int32_t mcpauth_client_send_streamed(uintptr_t client, const char *method, const char *url, const char *headers_json, const uint8_t *body, size_t body_len, _Out_ uintptr_t *out)',
    ),
    streamFree: lib.func('void mcpauth_stream_free(uintptr_t stream)'),
    streamStatus: lib.func('int32_t mcpauth_stream_status(uintptr_t stream, _Out_ uint16_t *out)'),
    streamHeaders: lib.func('int32_t mcpauth_stream_headers_json(uintptr_t stream, _Out_ void **out_json)'),
    streamChallenge: lib.func('int32_t mcpauth_stream_challenge_json(uintptr_t stream, _Out_ void **out_json)'),
    streamAuthorizations: lib.func('int32_t mcpauth_stream_authorizations(uintptr_t stream, _Out_ uint32_t *out)'),
    streamIsEventStream: lib.func('int32_t mcpauth_stream_is_event_stream(uintptr_t stream, _Out_ bool *out)'),
    streamRead: lib.func('int32_t mcpauth_stream_read(uintptr_t stream, void *buf, size_t cap, _Out_ size_t *out_len)'),
    streamNextEvent: lib.func('int32_t mcpauth_stream_next_event(uintptr_t stream, _Out_ void **out_event_json)'),
    protos: p,
  };
}

/**
 * A library-owned `char *` out-parameter as a JS string, then freed (mcpauth_string_free
 * zeroizes it). NULL gives null.
 */
export function takeString(api, ptr) {
  if (ptr === null) return null;
  try {
    return koffi().decode(ptr, 'char', -1);
  } finally {
    api.stringFree(ptr);
  }
}
