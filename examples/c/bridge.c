/*
 * bridge.c: a gateway in C that forwards the MCP server's 401/403 challenge to its own
 * (browser) client, with libmcpauth's proxy bridge (mcpauth_bridge_*).
 *
 *   bridge SERVER_URL
 *
 * Run it against a server whose authorization server never grants what the resource asks for
 * (`ffi/scripts/with-demo-server.sh --topology scope-retry-limit -- bridge {url}`): every
 * request first gets a 401, and every token then gets a 403 insufficient_scope.
 *
 * 1. A gateway that leaves authorization to its client (`max_authorizations: 0`): the send
 *    fails with MCPAUTH_STATUS_UNAUTHORIZED and mcpauth_bridge_last_error turns the captured
 *    401 into the downstream status and headers: WWW-Authenticate verbatim (here with
 *    resource_metadata pointed at the gateway), Access-Control-Expose-Headers merged, CORS.
 * 2. A gateway that authorizes: after the allowed step-ups the server still answers 403; the
 *    same call bridges it.
 * 3. The CORS preflight answer, and the request headers to forward upstream.
 * 4. The protected resource metadata the gateway serves at its own resource_metadata URL,
 *    fetched from the upstream and relayed.
 *
 * What the gateway writes on the wire is printed; it exits 0 when every check holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth.h"

/* The gateway's own public origin and the browser app allowed to call it. */
#define GATEWAY_PRM "https://gateway.example/.well-known/oauth-protected-resource/mcp"
#define APP_ORIGIN "https://app.example"
#define BRIDGE_OPTIONS                                                                         \
    "{\"resource_metadata_url\":\"" GATEWAY_PRM "\","                                          \
    "\"cors\":{\"allowed_origins\":[\"" APP_ORIGIN "\"]}}"

static int failures = 0;

static void check(int ok, const char *what) {
    if (!ok) {
        printf("  CHECK FAILED: %s\n", what);
        failures++;
    }
}

/* A member of a JSON document as a new string (NULL when absent). */
static char *member(const char *json, const char *pointer) {
    char *value = NULL;
    if (mcpauth_json_get(json, pointer, &value) != MCPAUTH_STATUS_OK) return NULL;
    return value;
}

static int contains(const char *haystack, const char *needle) {
    return haystack && strstr(haystack, needle) != NULL;
}

/* Print a downstream response (`{"status":…,"headers":[[n,v],…],"challenge":{…}|null}`) and
 * return the value of the header `want` (NULL when absent; free with mcpauth_string_free). */
static char *print_downstream(const char *downstream, const char *want) {
    char *status = member(downstream, "/status");
    printf("  downstream status     %s\n", status ? status : "?");
    mcpauth_string_free(status);
    char *found = NULL;
    for (int i = 0;; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/headers/%d/0", i);
        char *name = member(downstream, pointer);
        if (!name) break;
        snprintf(pointer, sizeof pointer, "/headers/%d/1", i);
        char *value = member(downstream, pointer);
        printf("  header                %s: %s\n", name, value ? value : "");
        if (want && !found && value && strcmp(name, want) == 0) {
            found = value;
            value = NULL;
        }
        mcpauth_string_free(name);
        mcpauth_string_free(value);
    }
    static const char *fields[] = {"scheme", "error", "scope", "resource_metadata"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/challenge/%s", fields[i]);
        char *v = member(downstream, pointer);
        if (v) printf("  challenge %-11s %s\n", fields[i], v);
        mcpauth_string_free(v);
    }
    return found;
}

static mcpauth_client *new_client(const char *server_url, int max_authorizations) {
    char options[1024];
    snprintf(options, sizeof options,
             "{\"server_url\":\"%s\",\"timeout_ms\":60000,\"max_authorizations\":%d,"
             "\"redirect\":{\"type\":\"headless\"}}", server_url,
             max_authorizations);
    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK)
        printf("  client: %s: %s\n", mcpauth_status_name(s), mcpauth_last_error_message());
    return client;
}

/* Send tools/call through `client`; on MCPAUTH_STATUS_UNAUTHORIZED, bridge the challenge and
 * check the downstream response has status `expect_status` and challenge error
 * `expect_error`. */
static void bridge_refusal(const char *server_url, int max_authorizations, int expect_status,
                           const char *expect_error) {
    mcpauth_client *client = new_client(server_url, max_authorizations);
    check(client != NULL, "client built");
    if (!client) return;
    mcpauth_response *response = NULL;
    mcpauth_status s = mcpauth_client_post_json(
        client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"test-tool\",\"arguments\":{}}}",
        &response);
    printf("  send                  %s (%d), upstream status %u\n", mcpauth_status_name(s), (int)s,
           (unsigned)mcpauth_last_error_http_status());
    check(s == MCPAUTH_STATUS_UNAUTHORIZED, "the server still refuses");

    /* Right after the failed call, on the same thread. */
    char *downstream = NULL;
    s = mcpauth_bridge_last_error(APP_ORIGIN, BRIDGE_OPTIONS, &downstream);
    check(s == MCPAUTH_STATUS_OK && downstream != NULL, "the last error carries a challenge");
    if (downstream) {
        char *www = print_downstream(downstream, "WWW-Authenticate");
        char *status = member(downstream, "/status");
        char *error = member(downstream, "/challenge/error");
        char *rm = member(downstream, "/challenge/resource_metadata");
        char expected[16];
        snprintf(expected, sizeof expected, "%d", expect_status);
        check(status && strcmp(status, expected) == 0, "the upstream status is kept");
        check(error && strcmp(error, expect_error) == 0, "the challenge's error");
        check(contains(www, "Bearer") && contains(www, GATEWAY_PRM),
              "WWW-Authenticate forwarded, resource_metadata rewritten");
        check(rm && strcmp(rm, GATEWAY_PRM) == 0, "the structured challenge has the new URL");
        check(contains(downstream, "\"Access-Control-Expose-Headers\",\"WWW-Authenticate, "
                                   "Mcp-Session-Id, MCP-Protocol-Version\""),
              "WWW-Authenticate exposed to the browser");
        check(contains(downstream, "[\"Access-Control-Allow-Origin\",\"" APP_ORIGIN "\"]"),
              "the app's origin allowed");
        mcpauth_string_free(www);
        mcpauth_string_free(status);
        mcpauth_string_free(error);
        mcpauth_string_free(rm);
    }
    mcpauth_string_free(downstream);

    /* The last error is gone now: nothing more to bridge. */
    downstream = NULL;
    s = mcpauth_bridge_last_error(APP_ORIGIN, NULL, &downstream);
    check(s == MCPAUTH_STATUS_OK && downstream == NULL, "nothing to bridge after a success");
    mcpauth_response_free(response);
    mcpauth_client_free(client);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SERVER_URL\n", argv[0]);
        return 2;
    }
    const char *server_url = argv[1];

    printf("1. 401: a gateway that leaves authorization to its client\n");
    bridge_refusal(server_url, 0, 401, "invalid_token");

    printf("\n2. 403: a gateway that authorizes, refused after the allowed step-ups\n");
    bridge_refusal(server_url, 3, 403, "insufficient_scope");

    printf("\n3. CORS preflight and upstream request headers\n");
    char *out = NULL;
    mcpauth_status s = mcpauth_bridge_preflight(
        "[[\"Origin\",\"" APP_ORIGIN "\"],[\"Access-Control-Request-Method\",\"POST\"],"
        "[\"Access-Control-Request-Headers\",\"authorization, content-type\"]]",
        "{\"allowed_origins\":[\"" APP_ORIGIN "\"]}", &out);
    check(s == MCPAUTH_STATUS_OK, "preflight");
    if (out) {
        char *allow = print_downstream(out, "Access-Control-Allow-Headers");
        check(contains(allow, "Authorization"), "Authorization allowed");
        mcpauth_string_free(allow);
    }
    mcpauth_string_free(out);
    out = NULL;
    s = mcpauth_bridge_upstream_request_headers(
        "[[\"Host\",\"gateway.example\"],[\"Origin\",\"" APP_ORIGIN "\"],"
        "[\"Authorization\",\"Bearer from-the-browser\"],[\"Connection\",\"keep-alive\"],"
        "[\"Mcp-Session-Id\",\"s1\"]]",
        &out);
    check(s == MCPAUTH_STATUS_OK, "upstream request headers");
    printf("  forward upstream      %s\n", out ? out : "?");
    check(contains(out, "Mcp-Session-Id") && !contains(out, "Origin") && !contains(out, "Host"),
          "hop-by-hop, Host and Origin dropped");
    mcpauth_string_free(out);

    printf("\n4. the protected resource metadata served at the gateway's URL\n");
    char *origin = NULL, *prm_url = NULL;
    s = mcpauth_mcp_origin(server_url, &origin);
    check(s == MCPAUTH_STATUS_OK && origin, "origin");
    if (origin) {
        size_t n = strlen(origin) + 64;
        prm_url = malloc(n);
        if (prm_url) snprintf(prm_url, n, "%s/.well-known/oauth-protected-resource/mcp", origin);
    }
    out = NULL;
    s = prm_url ? mcpauth_bridge_fetch_protected_resource_metadata(
                      prm_url, "https://gateway.example/mcp", 10000, &out)
                : MCPAUTH_STATUS_INTERNAL;
    if (s != MCPAUTH_STATUS_OK)
        printf("  fetch: %s: %s\n", mcpauth_status_name(s), mcpauth_last_error_message());
    check(s == MCPAUTH_STATUS_OK, "metadata fetched and relayed");
    char *resource = out ? member(out, "/resource") : NULL;
    printf("  relayed resource      %s\n", resource ? resource : "?");
    check(resource && strcmp(resource, "https://gateway.example/mcp") == 0, "resource rewritten");
    char *servers = out ? member(out, "/authorization_servers/0") : NULL;
    printf("  authorization server  %s\n", servers ? servers : "?");
    check(servers != NULL, "authorization_servers kept");
    mcpauth_string_free(servers);
    mcpauth_string_free(resource);
    mcpauth_string_free(out);
    mcpauth_string_free(origin);
    free(prm_url);

    if (failures) {
        printf("\nbridge: %d check(s) failed\n", failures);
        return 1;
    }
    printf("\nbridge: ok\n");
    return 0;
}
