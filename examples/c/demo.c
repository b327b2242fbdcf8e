/*
 * demo.c: the whole MCP authorization flow from C, against the loopback demo server.
 *
 *   demo SERVER_URL [--storage memory|callback|file:PATH]
 *
 * `make demo` starts `mcp-auth-demo-server`, runs this program on its URL, and stops it.
 *
 * From a cold start the first MCP request gets a 401; libmcpauth then discovers the protected
 * resource metadata and the authorization server metadata, registers a client, runs the PKCE
 * authorization (headless: the demo server auto-approves), exchanges the code for a token and
 * retries. Each step is printed by the trace callback. Then `tools/list` and an authorized
 * `tools/call` reuse the token.
 *
 * --storage selects where tokens and the client registration are kept: in the library's memory
 * (default), in a file (run twice with the same file: the second run needs no authorization),
 * or in this program, through the storage callbacks (a small key-value list below).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth.h"

/* ----------------------------------------------------------------------------------------- */
/* Trace: one line per step of the flow.                                                      */
/* ----------------------------------------------------------------------------------------- */

/* A member of a JSON document as a new string (NULL when absent); free with
 * mcpauth_string_free. */
static char *member(const char *json, const char *pointer) {
    char *value = NULL;
    if (mcpauth_json_get(json, pointer, &value) != MCPAUTH_STATUS_OK) return NULL;
    return value;
}

static void on_trace(void *userdata, const char *event_json) {
    (void)userdata;
    char *step = member(event_json, "/step");
    char *method = member(event_json, "/method");
    char *url = member(event_json, "/url");
    char *status = member(event_json, "/status");
    char *duration = member(event_json, "/duration");
    char *outcome = member(event_json, "/outcome");
    char *detail = member(event_json, "/detail");

    const char *mark = "FAIL";
    if (outcome && strcmp(outcome, "ok") == 0) mark = "ok  ";
    if (outcome && strcmp(outcome, "fallback") == 0) mark = "next";
    printf("  [%s] %-30s", mark, step ? step : "?");
    if (method && url) printf(" %s %s", method, url);
    if (status) printf(" -> %s", status);
    printf(" (%.2f ms)\n         %s\n", duration ? atof(duration) / 1000.0 : 0.0,
           detail ? detail : "");
    fflush(stdout);

    mcpauth_string_free(step);
    mcpauth_string_free(method);
    mcpauth_string_free(url);
    mcpauth_string_free(status);
    mcpauth_string_free(duration);
    mcpauth_string_free(outcome);
    mcpauth_string_free(detail);
}

/* ----------------------------------------------------------------------------------------- */
/* Host storage: a key-value list kept by this program (single-threaded here, so no lock).    */
/* ----------------------------------------------------------------------------------------- */

struct entry {
    char *kind;
    char *key;
    char *value;
    struct entry *next;
};

struct store {
    struct entry *head;
    int gets, sets, removes;
};

static char *copy(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* Overwrite before freeing: values hold tokens. */
static void wipe_free(char *s) {
    if (!s) return;
    volatile char *v = s;
    while (*v) *v++ = 0;
    free(s);
}

static struct entry **find(struct store *st, const char *kind, const char *key) {
    struct entry **e = &st->head;
    while (*e && (strcmp((*e)->kind, kind) != 0 || strcmp((*e)->key, key) != 0)) e = &(*e)->next;
    return e;
}

static int32_t store_get(void *userdata, const char *kind, const char *key,
                         mcpauth_reply *reply) {
    struct store *st = userdata;
    st->gets++;
    struct entry **e = find(st, kind, key);
    if (*e == NULL) return 0; /* not found */
    return mcpauth_reply_set_value(reply, (*e)->value) == MCPAUTH_STATUS_OK ? 0 : 1;
}

static int32_t store_set(void *userdata, const char *kind, const char *key, const char *value,
                         mcpauth_reply *reply) {
    struct store *st = userdata;
    st->sets++;
    char *v = copy(value);
    if (!v) {
        mcpauth_reply_set_error(reply, "out of memory");
        return 1;
    }
    struct entry **e = find(st, kind, key);
    if (*e) {
        wipe_free((*e)->value);
        (*e)->value = v;
        return 0;
    }
    struct entry *n = malloc(sizeof *n);
    if (!n || !(n->kind = copy(kind)) || !(n->key = copy(key))) {
        if (n) free(n->kind);
        free(n);
        wipe_free(v);
        mcpauth_reply_set_error(reply, "out of memory");
        return 1;
    }
    n->value = v;
    n->next = st->head;
    st->head = n;
    return 0;
}

static int32_t store_remove(void *userdata, const char *kind, const char *key,
                            mcpauth_reply *reply) {
    (void)reply;
    struct store *st = userdata;
    st->removes++;
    struct entry **e = find(st, kind, key);
    if (*e) {
        struct entry *dead = *e;
        *e = dead->next;
        free(dead->kind);
        free(dead->key);
        wipe_free(dead->value);
        free(dead);
    }
    return 0;
}

static void store_clear(struct store *st) {
    while (st->head) {
        struct entry *dead = st->head;
        st->head = dead->next;
        free(dead->kind);
        free(dead->key);
        wipe_free(dead->value);
        free(dead);
    }
}

/* ----------------------------------------------------------------------------------------- */
/* MCP calls                                                                                  */
/* ----------------------------------------------------------------------------------------- */

static int report(const char *what, mcpauth_status status) {
    const char *message = mcpauth_last_error_message();
    fprintf(stderr, "%s failed: %s (%d): %s\n", what, mcpauth_status_name(status), (int)status,
            message ? message : "(no message)");
    const char *oauth = mcpauth_last_error_oauth_error();
    if (oauth) fprintf(stderr, "  OAuth error: %s\n", oauth);
    const char *challenge = mcpauth_last_error_challenge_json();
    if (challenge) fprintf(stderr, "  challenge: %s\n", challenge);
    return 1;
}

/* POST one JSON-RPC request and print the result; with out_body, also return the whole body
 * (free it with mcpauth_string_free). */
static int call(const mcpauth_client *client, const char *method, const char *params, int id,
                char **out_body) {
    char body[1024];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":%s}",
             id, method, params);
    printf("-> %s\n", method);
    fflush(stdout);

    mcpauth_response *response = NULL;
    mcpauth_status s = mcpauth_client_post_json(client, body, &response);
    if (s != MCPAUTH_STATUS_OK) return report(method, s);

    uint16_t status = 0;
    uint32_t authorizations = 0;
    const uint8_t *data = NULL;
    size_t len = 0;
    char *challenge = NULL;
    if ((s = mcpauth_response_status(response, &status)) != MCPAUTH_STATUS_OK ||
        (s = mcpauth_response_authorizations(response, &authorizations)) != MCPAUTH_STATUS_OK ||
        (s = mcpauth_response_challenge_json(response, &challenge)) != MCPAUTH_STATUS_OK ||
        (s = mcpauth_response_body(response, &data, &len)) != MCPAUTH_STATUS_OK) {
        mcpauth_response_free(response);
        return report("reading the response", s);
    }
    /* The body is followed by a NUL byte, so a JSON body can be used as a C string. */
    char *result = member((const char *)data, "/result");
    printf("<- %u %s (authorizations during this request: %u)\n", status,
           result ? result : "(no result)", authorizations);
    if (challenge) {
        char *www = member(challenge, "/www_authenticate/0");
        printf("   (answered the challenge: WWW-Authenticate: %s)\n", www ? www : "?");
        mcpauth_string_free(www);
    }
    printf("\n");
    mcpauth_string_free(result);
    mcpauth_string_free(challenge);

    int rc = 0;
    if (status != 200) {
        fprintf(stderr, "%s: HTTP %u\n", method, status);
        rc = 1;
    } else if (out_body) {
        *out_body = member((const char *)data, "");
        if (*out_body == NULL) rc = 1;
    }
    mcpauth_response_free(response);
    return rc;
}

/* Reject values that would need escaping inside the options JSON. */
static int plain(const char *s) {
    for (; *s; s++)
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) return 0;
    return 1;
}

int main(int argc, char **argv) {
    const char *server_url = NULL;
    const char *storage = "memory";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--storage") == 0 && i + 1 < argc)
            storage = argv[++i];
        else if (!server_url && argv[i][0] != '-')
            server_url = argv[i];
        else {
            server_url = NULL;
            break;
        }
    }
    int file = strncmp(storage, "file:", 5) == 0;
    int callback = strcmp(storage, "callback") == 0;
    if (!server_url || !plain(server_url) || !plain(storage) ||
        !(file || callback || strcmp(storage, "memory") == 0)) {
        fprintf(stderr, "usage: %s SERVER_URL [--storage memory|callback|file:PATH]\n", argv[0]);
        return 2;
    }
    if (mcpauth_abi_version() != MCPAUTH_ABI_VERSION) {
        fprintf(stderr, "libmcpauth ABI mismatch\n");
        return 1;
    }

    printf("libmcpauth %s\n", mcpauth_version());
    printf("demo server: %s (storage: %s)\n\n", server_url, storage);

    char options[2048];
    snprintf(options, sizeof options,
             "{\"server_url\":\"%s\",\"client_name\":\"mcp-auth C demo\",\"timeout_ms\":60000,"
             /* the demo server approves without a login page */
             "\"redirect\":{\"type\":\"headless\"}%s%s%s}",
             server_url, file ? ",\"storage\":{\"type\":\"file\",\"path\":\"" : "",
             file ? storage + 5 : "", file ? "\"}" : "");

    mcpauth_client_config *config = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s != MCPAUTH_STATUS_OK) return report("mcpauth_client_config_new", s);

    struct store store = {0};
    if ((s = mcpauth_client_config_set_trace(config, on_trace, NULL)) != MCPAUTH_STATUS_OK ||
        (callback && (s = mcpauth_client_config_set_storage(config, store_get, store_set,
                                                            store_remove, &store)) !=
                         MCPAUTH_STATUS_OK)) {
        mcpauth_client_config_free(config);
        return report("configuring the client", s);
    }

    mcpauth_client *client = NULL;
    s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config); /* the client keeps its own copy */
    if (s != MCPAUTH_STATUS_OK) return report("mcpauth_client_new", s);

    int rc = call(client, "initialize",
                  "{\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},"
                  "\"clientInfo\":{\"name\":\"mcp-auth-c-demo\",\"version\":\"" MCPAUTH_VERSION
                  "\"}}",
                  1, NULL);
    if (!rc) rc = call(client, "tools/list", "{}", 2, NULL);
    char *body = NULL;
    if (!rc)
        rc = call(client, "tools/call",
                  "{\"name\":\"echo\",\"arguments\":{\"text\":\"hello from mcp-auth\"}}", 3, &body);

    if (!rc) {
        char *text = member(body, "/result/content/0/text");
        printf("tools/call result: %s\n", text ? text : "(none)");
        if (!text || strcmp(text, "hello from mcp-auth") != 0) {
            fprintf(stderr, "unexpected tools/call result\n");
            rc = 1;
        }
        mcpauth_string_free(text);

        char *scope = NULL;
        if ((s = mcpauth_client_granted_scope(client, &scope)) != MCPAUTH_STATUS_OK)
            rc = report("mcpauth_client_granted_scope", s);
        printf("granted scope: %s\n", scope ? scope : "(none)");
        mcpauth_string_free(scope);
    }
    mcpauth_string_free(body);
    mcpauth_client_free(client);

    if (callback) {
        printf("host storage: %d gets, %d sets, %d removes\n", store.gets, store.sets,
               store.removes);
        if (store.sets == 0) rc = 1;
        store_clear(&store);
    }
    if (!rc) printf("demo: ok\n");
    return rc;
}
