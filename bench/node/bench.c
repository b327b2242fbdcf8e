/*
 * bench.c: the C side of `make bench-node`: N calls of two libmcpauth functions, timed with
 * CLOCK_MONOTONIC, printed as one JSON line for bench.mjs to compare with the same calls made
 * from Node.js.
 *
 *   bench N SERVER_URL
 *
 * - parse_www_authenticate: a pure function (parse a challenge, return JSON, free it).
 * - current_token: a client call without I/O (no token held: the answer is NULL).
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mcpauth.h"

static const char *CHALLENGE =
    "Bearer error=\"insufficient_scope\", scope=\"mcp:read mcp:write\", "
    "resource_metadata=\"https://mcp.example.com/.well-known/oauth-protected-resource/mcp\"";

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int fail(const char *what) {
    const char *m = mcpauth_last_error_message();
    fprintf(stderr, "bench: %s failed: %s\n", what, m ? m : "?");
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench N SERVER_URL\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    char opts[512];
    snprintf(opts, sizeof opts, "{\"server_url\":\"%s\"}", argv[2]);

    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        char *out = NULL;
        if (mcpauth_parse_www_authenticate(CHALLENGE, &out) != MCPAUTH_STATUS_OK) return fail("parse");
        mcpauth_string_free(out);
    }
    double parse_ns = (now_ns() - t0) / (double)n;

    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    if (mcpauth_client_config_new(opts, &config) != MCPAUTH_STATUS_OK) return fail("config");
    if (mcpauth_client_new(config, &client) != MCPAUTH_STATUS_OK) return fail("client");
    mcpauth_client_config_free(config);
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
        char *token = NULL;
        if (mcpauth_client_current_token(client, &token) != MCPAUTH_STATUS_OK) return fail("current_token");
        mcpauth_string_free(token);
    }
    double token_ns = (now_ns() - t0) / (double)n;
    mcpauth_client_free(client);

    printf("{\"n\":%ld,\"parse_www_authenticate_ns\":%.1f,\"current_token_ns\":%.1f}\n", n, parse_ns, token_ns);
    return 0;
}
