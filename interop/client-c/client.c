/*
 * The C ABI column of the interop suite (interop/run.py): an MCP host on libmcpauth.
 *
 *   client OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON
 *
 * The same host as interop/client-rs, through the C ABI: the options JSON goes to
 * `mcpauth_client_config_new` as it is (the loopback browser redirect handler, storage,
 * grant, client credentials all come from it), then `initialize` (with
 * `mcpauth_client_post_json`), `notifications/initialized` and CALLS times `tools/call` with
 * TOOL_JSON as the params (an array of params: call i uses element i, the last one repeated;
 * read with `mcpauth_json_get`), with `mcpauth_client_send`, carrying the session id, pausing
 * PAUSE_SECS between calls so the access token expires in between. Each result goes to stdout
 * as one line, trace events to stderr. A 404 for the session (MCP streamable HTTP: the server
 * ended it; the Python SDK does when the client registration changed) starts a new session
 * and repeats the call once. The suite judges the cell from the servers' records, not from
 * this output.
 *
 * Built by mk/interop.mk through examples/c/Makefile (static link against libmcpauth.a).
 * Exit status: 0 when every request succeeded, 1 on failure, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mcpauth.h"

#define PROTOCOL_VERSION "2025-11-25"

static int fail(const char *what, mcpauth_status s) {
    const char *message = mcpauth_last_error_message();
    fprintf(stderr, "interop client: %s: %s (%d): %s\n", what, mcpauth_status_name(s), (int)s,
            message ? message : mcpauth_status_str(s));
    printf("error: %s: %s\n", what, message ? message : mcpauth_status_str(s));
    return -1;
}

static void on_trace(void *userdata, const char *event_json) {
    (void)userdata;
    fprintf(stderr, "trace: %s\n", event_json);
}

/* The session id the server assigned (NULL before `initialize`), and the answer's status. */
struct session {
    const mcpauth_client *client;
    char *id;
};

/* Print the JSON-RPC answer, keep the session id; 0 when the status is 2xx. */
static int handle(struct session *s, const char *method, mcpauth_response *response, int call) {
    char *session_id = NULL;
    if (mcpauth_response_header(response, "mcp-session-id", &session_id) == MCPAUTH_STATUS_OK &&
        session_id) {
        mcpauth_string_free(s->id);
        s->id = session_id;
    }
    uint16_t status = 0;
    mcpauth_response_status(response, &status);
    if (status == 404 && s->id) {
        fprintf(stderr, "interop client: %s answered 404: the session is gone\n", method);
        return -2;
    }
    if (status < 200 || status > 299) {
        fprintf(stderr, "interop client: %s answered %u\n", method, (unsigned)status);
        printf("error: %s answered %u\n", method, (unsigned)status);
        return -1;
    }
    char *message = NULL;
    if (call >= 0 && mcpauth_response_json_message(response, &message) == MCPAUTH_STATUS_OK)
        printf("call %d: %s\n", call, message ? message : "null");
    mcpauth_string_free(message);
    return 0;
}

/* POST one JSON-RPC message with the session id (notifications have id < 0). */
static int rpc(struct session *s, const char *method, const char *params, int id, int call) {
    size_t n = strlen(method) + strlen(params) + 128;
    size_t h = (s->id ? strlen(s->id) : 0) + 256;
    char *body = malloc(n), *headers = malloc(h);
    int rc = -1;
    if (!body || !headers) {
        fprintf(stderr, "interop client: out of memory\n");
        goto done;
    }
    if (id >= 0)
        snprintf(body, n, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}", id,
                 method, params);
    else
        snprintf(body, n, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"params\":%s}", method, params);
    /* A session id is visible ASCII (MCP spec), so it needs no JSON escaping. */
    snprintf(headers, h,
             "{\"Content-Type\":\"application/json\","
             "\"Accept\":\"application/json, text/event-stream\","
             "\"MCP-Protocol-Version\":\"" PROTOCOL_VERSION "\"%s%s%s}",
             s->id ? ",\"Mcp-Session-Id\":\"" : "", s->id ? s->id : "", s->id ? "\"" : "");
    mcpauth_response *response = NULL;
    mcpauth_status st = mcpauth_client_send(s->client, "POST", NULL, headers,
                                            (const uint8_t *)body, strlen(body), &response);
    if (st != MCPAUTH_STATUS_OK) {
        fail(method, st);
        goto done;
    }
    rc = handle(s, method, response, call);
    mcpauth_response_free(response);
done:
    free(body);
    free(headers);
    return rc;
}

static void pause_for(double secs) {
    struct timespec t = {.tv_sec = (time_t)secs,
                         .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

#define INITIALIZE_PARAMS                                                                  \
    "{\"protocolVersion\":\"" PROTOCOL_VERSION "\",\"capabilities\":{},\"clientInfo\":{\"name\":" \
    "\"mcp-auth-interop-c\",\"version\":\"" MCPAUTH_VERSION "\"}}"

/* The params of call i: TOOL_JSON, or element i of a TOOL_JSON array (the last one repeated). */
static char *tool_params(const char *tool, int i) {
    char *params = NULL;
    if (tool[0] != '[') {
        mcpauth_json_get(tool, "", &params);
        return params;
    }
    for (int k = i; k >= 0 && !params; k--) {
        char pointer[24];
        snprintf(pointer, sizeof pointer, "/%d", k);
        mcpauth_json_get(tool, pointer, &params);
    }
    return params;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s OPTIONS_JSON CALLS PAUSE_SECS TOOL_JSON\n", argv[0]);
        return 2;
    }
    const char *options = argv[1], *tool = argv[4];
    int calls = atoi(argv[2]);
    double pause = strtod(argv[3], NULL);

    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s != MCPAUTH_STATUS_OK) {
        fail("options", s);
        return 1;
    }
    s = mcpauth_client_config_set_trace(config, on_trace, NULL);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) {
        fail("client", s);
        return 1;
    }

    struct session session = {.client = client, .id = NULL};
    int rc = 0;
    mcpauth_response *response = NULL;
    s = mcpauth_client_post_json(client,
                                 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                 "\"params\":{\"protocolVersion\":\"" PROTOCOL_VERSION "\","
                                 "\"capabilities\":{},\"clientInfo\":{\"name\":"
                                 "\"mcp-auth-interop-c\",\"version\":\"" MCPAUTH_VERSION "\"}}}",
                                 &response);
    if (s != MCPAUTH_STATUS_OK)
        rc = fail("initialize", s);
    else
        rc = handle(&session, "initialize", response, -1);
    mcpauth_response_free(response);
    if (rc == 0) rc = rpc(&session, "notifications/initialized", "{}", -1, -1);
    for (int i = 0; rc == 0 && i < calls; i++) {
        if (i > 0) pause_for(pause);
        char *params = tool_params(tool, i);
        if (!params) {
            fprintf(stderr, "interop client: TOOL_JSON has no params for call %d\n", i);
            rc = -1;
            break;
        }
        rc = rpc(&session, "tools/call", params, 10 + i, i);
        if (rc == -2) {
            /* A new session (MCP streamable HTTP), then the call again, once. */
            mcpauth_string_free(session.id);
            session.id = NULL;
            rc = rpc(&session, "initialize", INITIALIZE_PARAMS, 2, -1);
            if (rc == 0) rc = rpc(&session, "notifications/initialized", "{}", -1, -1);
            if (rc == 0) rc = rpc(&session, "tools/call", params, 20 + i, i);
        }
        mcpauth_string_free(params);
    }
    mcpauth_string_free(session.id);
    mcpauth_client_free(client);
    return rc == 0 ? 0 : 1;
}
