/*
 * probe.c: a command-line authorization debugger for MCP servers.
 *
 *   probe SERVER_URL
 *
 * Sends one unauthenticated MCP `initialize`, prints the status and the WWW-Authenticate
 * challenge (parsed), then walks the discovery chain step by step: every protected resource
 * metadata candidate (RFC 9728, SEP-985), every authorization server metadata candidate
 * (RFC 8414, OpenID Connect Discovery), with the issuer and resource checks, and prints what
 * was found. Nothing is registered and no token is requested.
 *
 * Exit status: 0 when discovery succeeded, 1 when it failed (the reason is printed), 2 on
 * usage errors.
 */
#include <stdio.h>
#include <string.h>

#include "mcpauth.h"

static char *member(const char *json, const char *pointer) {
    char *value = NULL;
    if (mcpauth_json_get(json, pointer, &value) != MCPAUTH_STATUS_OK) return NULL;
    return value;
}

static void print_member(const char *label, const char *json, const char *pointer) {
    char *value = member(json, pointer);
    if (value) printf("  %-26s %s\n", label, value);
    mcpauth_string_free(value);
}

static void on_trace(void *userdata, const char *event_json) {
    int *steps = userdata;
    (*steps)++;
    char *step = member(event_json, "/step");
    char *method = member(event_json, "/method");
    char *url = member(event_json, "/url");
    char *status = member(event_json, "/status");
    char *outcome = member(event_json, "/outcome");
    char *detail = member(event_json, "/detail");
    printf("  %2d. %-30s %-8s %s %s%s%s\n      %s\n", *steps, step ? step : "?",
           outcome ? outcome : "?", method ? method : "", url ? url : "", status ? " -> " : "",
           status ? status : "", detail ? detail : "");
    mcpauth_string_free(step);
    mcpauth_string_free(method);
    mcpauth_string_free(url);
    mcpauth_string_free(status);
    mcpauth_string_free(outcome);
    mcpauth_string_free(detail);
}

static int report(const char *what, mcpauth_status status) {
    const char *message = mcpauth_last_error_message();
    printf("\n%s failed: %s (%d)\n  %s\n", what, mcpauth_status_name(status), (int)status,
           message ? message : "");
    const char *check = mcpauth_last_error_check();
    if (check) printf("  failed check: %s\n", check);
    uint16_t http = mcpauth_last_error_http_status();
    if (http) printf("  HTTP status: %u\n", http);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SERVER_URL\n", argv[0]);
        return 2;
    }
    const char *server_url = argv[1];
    for (const char *p = server_url; *p; p++) {
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
            fprintf(stderr, "probe: the URL contains a character that needs escaping\n");
            return 2;
        }
    }

    char options[2048];
    int n = snprintf(options, sizeof options,
                     "{\"server_url\":\"%s\",\"client_name\":\"mcp-auth probe\","
                     "\"timeout_ms\":60000,\"allow_insecure_server_url\":true}",
                     server_url);
    if (n < 0 || (size_t)n >= sizeof options) {
        fprintf(stderr, "probe: URL too long\n");
        return 2;
    }

    int steps = 0;
    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s != MCPAUTH_STATUS_OK) return report("configuration", s);
    if ((s = mcpauth_client_config_set_trace(config, on_trace, &steps)) == MCPAUTH_STATUS_OK)
        s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) return report("configuration", s);

    printf("probe %s\n\n1. unauthenticated request\n", server_url);
    char *probe = NULL;
    if ((s = mcpauth_client_probe(client, &probe)) != MCPAUTH_STATUS_OK) {
        mcpauth_client_free(client);
        return report("probe", s);
    }
    char *status = member(probe, "/status");
    printf("\n  status %s: %s\n", status ? status : "?",
           status && (strcmp(status, "401") == 0 || strcmp(status, "403") == 0)
               ? "authorization required"
               : "no authorization required (discovery is tried anyway)");
    mcpauth_string_free(status);
    char *www = member(probe, "/challenge/www_authenticate");
    if (www) {
        printf("  WWW-Authenticate values:  %s\n", www);
        print_member("scheme", probe, "/challenge/challenges/0/scheme");
        print_member("bearer error", probe, "/challenge/bearer/error");
        print_member("bearer error_description", probe, "/challenge/bearer/error_description");
        print_member("bearer scope", probe, "/challenge/bearer/scope");
        print_member("bearer resource_metadata", probe, "/challenge/bearer/resource_metadata");
        print_member("bearer realm", probe, "/challenge/bearer/realm");
    }
    mcpauth_string_free(www);
    mcpauth_string_free(probe);

    printf("\n2. discovery\n");
    steps = 0;
    char *found = NULL;
    s = mcpauth_client_discover(client, &found);
    mcpauth_client_free(client);
    if (s != MCPAUTH_STATUS_OK) return report("discovery", s);

    printf("\n3. result\n");
    print_member("protected resource", found, "/protected_resource/resource");
    print_member("  found at", found, "/protected_resource_url");
    print_member("  scopes_supported", found, "/protected_resource/scopes_supported");
    print_member("authorization server", found, "/authorization_server");
    print_member("issuer", found, "/issuer");
    print_member("  metadata at", found, "/metadata_url");
    print_member("authorization_endpoint", found, "/authorization_endpoint");
    print_member("token_endpoint", found, "/token_endpoint");
    print_member("registration_endpoint", found, "/registration_endpoint");
    print_member("PKCE methods", found, "/metadata/code_challenge_methods_supported");
    print_member("CIMD supported", found, "/metadata/client_id_metadata_document_supported");
    print_member("resource parameter", found, "/resource");
    mcpauth_string_free(found);
    printf("\nprobe: ok\n");
    return 0;
}
