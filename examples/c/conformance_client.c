/*
 * conformance_client.c: a client for the official MCP conformance suite
 * (@modelcontextprotocol/conformance), over libmcpauth. The same program as the Rust example
 * core/examples/conformance_client.rs.
 *
 *   MCP_CONFORMANCE_SCENARIO=auth/metadata-default MCP_CONFORMANCE_CONTEXT='{...}' \
 *       conformance_client [ARGS...] SERVER_URL
 *
 * The suite runs `COMMAND SERVER_URL`: the server URL is the last argument. The scenario name
 * and its context (JSON: client credentials, keys, assertions) come from the environment, as
 * does MCP_CONFORMANCE_PROTOCOL_VERSION. The program maps them to the library's client options,
 * then speaks the MCP wire: `initialize`, `notifications/initialized`, `tools/list` and
 * `tools/call test-tool` (from protocol version 2026-07-28 on, no handshake: every request
 * carries its version and capabilities in `_meta`).
 *
 * It holds no OAuth logic: discovery, registration, PKCE, scopes, step-up, client
 * authentication, DPoP and retries all happen inside libmcpauth.
 *
 * Exit status: 0 when every request succeeded, 1 on failure, 2 on bad usage, 3 when its own
 * deadline (25 s, under the suite's 30 s per scenario) is reached.
 *
 * MCPAUTH_CONFORMANCE_DEADLINE_SECS replaces that deadline (0: none) and lifts the 10 s
 * per-request timeout to it: the deadline is for the suite's clock, and a slow run under
 * valgrind on a loaded machine (ffi/tests/c_examples.rs) must not be cut short by it.
 */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcpauth.h"

/* The client ID metadata document URL the suite expects (basic-cimd); the library uses it
 * only when the authorization server advertises client_id_metadata_document_supported. */
#define CIMD_URL "https://conformance-test.local/client-metadata.json"
#define DEFAULT_PROTOCOL_VERSION "2025-11-25"
/* From this protocol version on, MCP is stateless: no initialize handshake. */
#define STATELESS_PROTOCOL_VERSION "2026-07-28"
#define DEADLINE_SECS 25
#define REQUEST_TIMEOUT_MS 10000

/* ----------------------------------------------------------------------------------------- */
/* A growable string, and JSON string escaping (RFC 8259 §7).                                 */
/* ----------------------------------------------------------------------------------------- */

struct buf {
    char *data;
    size_t len, cap;
    bool failed; /* out of memory: every later append is ignored */
};

static void buf_append(struct buf *b, const char *s, size_t n) {
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = malloc(cap);
        if (!p) {
            b->failed = true;
            return;
        }
        if (b->data) {
            memcpy(p, b->data, b->len);
            /* The old block may hold secrets (the options carry client secrets and keys). */
            volatile char *v = b->data;
            for (size_t i = 0; i < b->cap; i++) v[i] = 0;
            free(b->data);
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

/* Append `s` as a JSON string: quotes, backslashes and control characters escaped; other
 * bytes (UTF-8) copied as they are (the library rejects invalid UTF-8). */
static void buf_json_string(struct buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    buf_puts(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[7];
        switch (*p) {
        case '"': buf_puts(b, "\\\""); break;
        case '\\': buf_puts(b, "\\\\"); break;
        case '\n': buf_puts(b, "\\n"); break;
        case '\r': buf_puts(b, "\\r"); break;
        case '\t': buf_puts(b, "\\t"); break;
        case '\b': buf_puts(b, "\\b"); break;
        case '\f': buf_puts(b, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) {
                esc[0] = '\\';
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[*p >> 4];
                esc[5] = hex[*p & 0xf];
                esc[6] = '\0';
                buf_puts(b, esc);
            } else {
                buf_append(b, (const char *)p, 1);
            }
        }
    }
    buf_puts(b, "\"");
}

/* `"name":"value"` with a leading comma. */
static void buf_member(struct buf *b, const char *name, const char *value) {
    buf_puts(b, ",");
    buf_json_string(b, name);
    buf_puts(b, ":");
    buf_json_string(b, value);
}

/* Zeroize and free: options hold secrets. */
static void buf_free(struct buf *b) {
    if (b->data) {
        volatile char *v = b->data;
        for (size_t i = 0; i < b->cap; i++) v[i] = 0;
        free(b->data);
    }
    b->data = NULL;
    b->len = b->cap = 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The context: suite-supplied JSON mapped to the library's client options.                   */
/* ----------------------------------------------------------------------------------------- */

/* A string member of the context (NULL when absent or when the context is not JSON); free
 * with mcpauth_string_free, which zeroizes (members are secrets). */
static char *context_get(const char *context, const char *pointer) {
    char *value = NULL;
    if (!context || mcpauth_json_get(context, pointer, &value) != MCPAUTH_STATUS_OK) return NULL;
    return value;
}

/* Add the member `name` from the context's `pointer`, if present. */
static void option_from_context(struct buf *o, const char *context, const char *name,
                                const char *pointer) {
    char *value = context_get(context, pointer);
    if (value) buf_member(o, name, value);
    mcpauth_string_free(value);
}

static void build_options(struct buf *o, const char *server_url, const char *scenario,
                          const char *context, const char *protocol_version,
                          unsigned long timeout_ms) {
    char timeout[32];
    snprintf(timeout, sizeof timeout, "%lu", timeout_ms);
    buf_puts(o, "{\"server_url\":");
    buf_json_string(o, server_url);
    buf_puts(o, ",\"client_name\":\"mcp-auth conformance client\",\"client_metadata_url\":\"" CIMD_URL
                "\",\"redirect\":{\"type\":\"headless\"},\"timeout_ms\":");
    buf_puts(o, timeout);

    char *client_id = context_get(context, "/client_id");
    if (client_id) {
        buf_member(o, "client_id", client_id);
        option_from_context(o, context, "client_secret", "/client_secret");
        option_from_context(o, context, "private_key_pem", "/private_key_pem");
        option_from_context(o, context, "signing_algorithm", "/signing_algorithm");
    }
    mcpauth_string_free(client_id);

    /* The grant: one member, the last rule that applies wins (as in the Rust client). */
    const char *grant = NULL;
    if (strstr(scenario, "client-credentials")) grant = "client_credentials";
    /* Workload identity: the context carries the JWT the workload presents (RFC 7523). */
    char *jwt = context_get(context, "/valid_jwt");
    if (jwt) grant = "jwt_bearer";
    /* Enterprise-managed authorization (SEP-990): the IdP side. */
    char *id_token = context_get(context, "/idp_id_token");
    if (id_token) grant = "enterprise_managed";
    if (grant) buf_member(o, "grant", grant);
    if (id_token) {
        buf_member(o, "id_token", id_token);
        option_from_context(o, context, "idp_token_endpoint", "/idp_token_endpoint");
        option_from_context(o, context, "idp_client_id", "/idp_client_id");
        option_from_context(o, context, "idp_client_secret", "/idp_client_secret");
    } else if (jwt) {
        buf_member(o, "assertion", jwt);
    }
    mcpauth_string_free(jwt);
    mcpauth_string_free(id_token);

    if (protocol_version) buf_member(o, "protocol_version", protocol_version);
    buf_puts(o, "}");
}

/* ----------------------------------------------------------------------------------------- */
/* The MCP wire (Streamable HTTP): one JSON-RPC message per POST.                             */
/* ----------------------------------------------------------------------------------------- */

struct session {
    const mcpauth_client *client;
    const char *protocol_version;
    bool stateless;
    char *session_id; /* Mcp-Session-Id, once the server assigned one */
};

static void on_trace(void *userdata, const char *event_json) {
    (void)userdata;
    fprintf(stderr, "trace: %s\n", event_json);
}

static int fail(const char *what, mcpauth_status s) {
    const char *message = mcpauth_last_error_message();
    fprintf(stderr, "conformance client: %s: %s (%d): %s\n", what, mcpauth_status_name(s), (int)s,
            message ? message : mcpauth_status_str(s));
    return -1;
}

/*
 * Send one JSON-RPC message. `members` are the members of `params` without braces (NULL: no
 * params); `id` < 0 sends a notification. Returns 0 when the server answered 2xx.
 */
static int rpc(struct session *s, const char *method, const char *members, int id) {
    struct buf body = {0}, headers = {0};
    buf_puts(&body, "{\"jsonrpc\":\"2.0\"");
    buf_member(&body, "method", method);
    if (s->stateless) {
        /* 2026-07-28: every message carries its protocol version and the client capabilities. */
        buf_puts(&body, ",\"params\":{");
        if (members && *members) {
            buf_puts(&body, members);
            buf_puts(&body, ",");
        }
        buf_puts(&body, "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":");
        buf_json_string(&body, s->protocol_version);
        buf_puts(&body, ",\"io.modelcontextprotocol/clientCapabilities\":{}}}");
    } else if (members) {
        buf_puts(&body, ",\"params\":{");
        buf_puts(&body, members);
        buf_puts(&body, "}");
    }
    if (id >= 0) {
        char n[32];
        snprintf(n, sizeof n, ",\"id\":%d", id);
        buf_puts(&body, n);
    }
    buf_puts(&body, "}");

    buf_puts(&headers, "{\"Content-Type\":\"application/json\","
                       "\"Accept\":\"application/json, text/event-stream\"");
    buf_member(&headers, "MCP-Protocol-Version", s->protocol_version);
    buf_member(&headers, "Mcp-Method", method);
    if (s->session_id) buf_member(&headers, "Mcp-Session-Id", s->session_id);
    buf_puts(&headers, "}");

    int rc = -1;
    mcpauth_response *response = NULL;
    if (body.failed || headers.failed) {
        fprintf(stderr, "conformance client: out of memory\n");
        goto done;
    }
    mcpauth_status st = mcpauth_client_send(s->client, "POST", NULL, headers.data,
                                            (const uint8_t *)body.data, body.len, &response);
    if (st != MCPAUTH_STATUS_OK) {
        fail(method, st);
        goto done;
    }

    char *session_id = NULL;
    if (mcpauth_response_header(response, "mcp-session-id", &session_id) == MCPAUTH_STATUS_OK &&
        session_id) {
        mcpauth_string_free(s->session_id);
        s->session_id = session_id;
    }

    uint16_t status = 0;
    mcpauth_response_status(response, &status);
    fprintf(stderr, "%s -> %u\n", method, (unsigned)status);
    if (status < 200 || status > 299) {
        fprintf(stderr, "conformance client: %s answered %u\n", method, (unsigned)status);
        goto done;
    }
    /* The JSON-RPC answer, from a JSON or an SSE body. */
    char *message = NULL;
    if (id >= 0 && mcpauth_response_json_message(response, &message) == MCPAUTH_STATUS_OK) {
        fprintf(stderr, "%s result: %s\n", method, message ? message : "(none)");
        mcpauth_string_free(message);
    }
    rc = 0;
done:
    mcpauth_response_free(response);
    buf_free(&body);
    buf_free(&headers);
    return rc;
}

static int run(const char *server_url, unsigned long timeout_ms) {
    const char *scenario = getenv("MCP_CONFORMANCE_SCENARIO");
    const char *context = getenv("MCP_CONFORMANCE_CONTEXT");
    const char *version_env = getenv("MCP_CONFORMANCE_PROTOCOL_VERSION");
    const char *version = version_env ? version_env : DEFAULT_PROTOCOL_VERSION;

    struct buf options = {0};
    build_options(&options, server_url, scenario ? scenario : "", context, version_env,
                  timeout_ms);
    if (options.failed) {
        fprintf(stderr, "conformance client: out of memory\n");
        buf_free(&options);
        return -1;
    }

    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options.data, &config);
    buf_free(&options);
    if (s != MCPAUTH_STATUS_OK) return fail("options", s);
    s = mcpauth_client_config_set_trace(config, on_trace, NULL);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) return fail("client", s);

    struct session session = {
        .client = client,
        .protocol_version = version,
        .stateless = strcmp(version, STATELESS_PROTOCOL_VERSION) >= 0,
        .session_id = NULL,
    };
    struct buf init = {0};
    buf_puts(&init, "\"protocolVersion\":");
    buf_json_string(&init, version);
    buf_puts(&init, ",\"capabilities\":{},\"clientInfo\":{\"name\":\"mcp-auth-conformance\","
                    "\"version\":\"" MCPAUTH_VERSION "\"}");

    int rc = 0;
    if (!session.stateless) {
        rc = rpc(&session, "initialize", init.data, 1);
        if (rc == 0) rc = rpc(&session, "notifications/initialized", NULL, -1);
    }
    if (rc == 0) rc = rpc(&session, "tools/list", "", 2);
    if (rc == 0) rc = rpc(&session, "tools/call", "\"name\":\"test-tool\",\"arguments\":{}", 3);

    buf_free(&init);
    mcpauth_string_free(session.session_id);
    mcpauth_client_free(client);
    return rc;
}

static void on_deadline(int sig) {
    (void)sig;
    static const char message[] = "conformance client: deadline reached\n";
    ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
    (void)ignored;
    _exit(3);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s [ARGS...] SERVER_URL\n", argv[0]);
        return 2;
    }
    /* Our own deadline, well under the suite's 30 s per scenario, unless replaced. */
    unsigned long deadline = DEADLINE_SECS, timeout_ms = REQUEST_TIMEOUT_MS;
    const char *deadline_env = getenv("MCPAUTH_CONFORMANCE_DEADLINE_SECS");
    if (deadline_env && *deadline_env) {
        char *end = NULL;
        deadline = strtoul(deadline_env, &end, 10);
        if (*end || deadline > 86400) {
            fprintf(stderr, "MCPAUTH_CONFORMANCE_DEADLINE_SECS: not a number of seconds\n");
            return 2;
        }
        if (deadline == 0 || deadline * 1000 > timeout_ms)
            timeout_ms = deadline ? deadline * 1000 : 24UL * 3600 * 1000;
    }
    signal(SIGALRM, on_deadline);
    alarm((unsigned)deadline);
    if (run(argv[argc - 1], timeout_ms) != 0) return 1;
    printf("conformance client: ok\n");
    return 0;
}
