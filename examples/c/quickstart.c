/*
 * quickstart.c: the pure utilities of libmcpauth, no network.
 *
 * Parses a WWW-Authenticate challenge, builds the metadata discovery URLs, selects the scopes
 * to request, and shows how errors are reported.
 *
 *   cc -std=c11 -Iinclude quickstart.c target/debug/libmcpauth.a -lpthread -ldl -lm -o quickstart
 */
#include <stdio.h>
#include <stdlib.h>

#include "mcpauth.h"

/* Print the last error of this thread and return 1 (for `return fail(...)`). */
static int fail(const char *what, mcpauth_status status) {
    const char *message = mcpauth_last_error_message();
    fprintf(stderr, "%s failed: %s (%d): %s\n", what, mcpauth_status_name(status), (int)status,
            message ? message : "(no message)");
    return 1;
}

/* Print "label: value" (value may be NULL) and free the value. */
static void print_and_free(const char *label, char *value) {
    printf("  %-22s %s\n", label, value ? value : "(none)");
    mcpauth_string_free(value);
}

/* Print each element of a JSON array of strings, using mcpauth_json_get. */
static int print_list(const char *json) {
    for (int i = 0;; i++) {
        char pointer[32];
        char *item = NULL;
        snprintf(pointer, sizeof pointer, "/%d", i);
        mcpauth_status s = mcpauth_json_get(json, pointer, &item);
        if (s != MCPAUTH_STATUS_OK) return fail("mcpauth_json_get", s);
        if (item == NULL) return 0;
        printf("    %d. %s\n", i + 1, item);
        mcpauth_string_free(item);
    }
}

int main(void) {
    mcpauth_status s;

    /* The header and the library must agree. */
    if (mcpauth_abi_version() != MCPAUTH_ABI_VERSION) {
        fprintf(stderr, "libmcpauth ABI %u, header ABI %d\n", mcpauth_abi_version(),
                MCPAUTH_ABI_VERSION);
        return 1;
    }
    printf("libmcpauth %s (header %s, ABI %u)\n\n", mcpauth_version(), MCPAUTH_VERSION,
           mcpauth_abi_version());

    /* 1. A 401 challenge from an MCP server. */
    const char *header =
        "Bearer error=\"invalid_token\", scope=\"files:read files:write\", "
        "resource_metadata=\"https://meta.example.com/mcp/prm\"";
    printf("1. challenge: WWW-Authenticate: %s\n", header);

    char *parsed = NULL;
    if ((s = mcpauth_parse_www_authenticate(header, &parsed)) != MCPAUTH_STATUS_OK)
        return fail("mcpauth_parse_www_authenticate", s);
    char *scheme = NULL, *error = NULL;
    if ((s = mcpauth_json_get(parsed, "/challenges/0/scheme", &scheme)) != MCPAUTH_STATUS_OK ||
        (s = mcpauth_json_get(parsed, "/bearer/error", &error)) != MCPAUTH_STATUS_OK) {
        mcpauth_string_free(parsed);
        mcpauth_string_free(scheme);
        return fail("mcpauth_json_get", s);
    }
    mcpauth_string_free(parsed);
    print_and_free("scheme", scheme);
    print_and_free("error", error);

    char *scope = NULL, *resource_metadata = NULL;
    if ((s = mcpauth_extract_scope_from_www_auth(header, &scope)) != MCPAUTH_STATUS_OK)
        return fail("mcpauth_extract_scope_from_www_auth", s);
    if ((s = mcpauth_extract_resource_metadata_from_www_auth(header, 401, &resource_metadata)) !=
        MCPAUTH_STATUS_OK) {
        mcpauth_string_free(scope);
        return fail("mcpauth_extract_resource_metadata_from_www_auth", s);
    }
    printf("  %-22s %s\n", "scope", scope);
    printf("  %-22s %s\n\n", "resource_metadata", resource_metadata);

    /* 2. Where to look for the metadata. */
    const char *server_url = "https://mcp.example.com/mcp";
    char *prm_urls = NULL;
    s = mcpauth_build_protected_resource_metadata_discovery_urls(resource_metadata, server_url,
                                                                 &prm_urls);
    mcpauth_string_free(resource_metadata);
    if (s != MCPAUTH_STATUS_OK) {
        mcpauth_string_free(scope);
        return fail("mcpauth_build_protected_resource_metadata_discovery_urls", s);
    }
    printf("2. protected resource metadata candidates (RFC 9728, SEP-985):\n");
    int rc = print_list(prm_urls);
    mcpauth_string_free(prm_urls);
    if (rc) {
        mcpauth_string_free(scope);
        return rc;
    }

    char *as_urls = NULL;
    if ((s = mcpauth_build_oauth_authorization_server_metadata_discovery_urls(
             "https://auth.example.com/tenant1", server_url, &as_urls)) != MCPAUTH_STATUS_OK) {
        mcpauth_string_free(scope);
        return fail("mcpauth_build_oauth_authorization_server_metadata_discovery_urls", s);
    }
    printf("   authorization server metadata candidates (RFC 8414, OIDC):\n");
    rc = print_list(as_urls);
    mcpauth_string_free(as_urls);
    if (rc) {
        mcpauth_string_free(scope);
        return rc;
    }

    /* 3. Which scope to request. */
    const char *prm = "{\"resource\":\"https://mcp.example.com/mcp\","
                      "\"authorization_servers\":[\"https://auth.example.com/tenant1\"],"
                      "\"scopes_supported\":[\"files:read\"]}";
    const char *asm_json = "{\"issuer\":\"https://auth.example.com/tenant1\","
                           "\"authorization_endpoint\":\"https://auth.example.com/authorize\","
                           "\"token_endpoint\":\"https://auth.example.com/token\","
                           "\"scopes_supported\":[\"files:read\",\"files:write\",\"offline_access\"]}";
    const char *grants = "[\"authorization_code\",\"refresh_token\"]";
    char *selected = NULL;
    s = mcpauth_get_client_metadata_scopes(scope, prm, asm_json, grants, &selected);
    mcpauth_string_free(scope);
    if (s != MCPAUTH_STATUS_OK) return fail("mcpauth_get_client_metadata_scopes", s);
    printf("\n3. scope selection (SEP-835, SEP-2207):\n");
    printf("  %-22s %s\n", "requested scope", selected);

    char *union_scope = NULL;
    s = mcpauth_union_scopes(selected, "files:admin files:read", &union_scope);
    mcpauth_string_free(selected);
    if (s != MCPAUTH_STATUS_OK) return fail("mcpauth_union_scopes", s);
    print_and_free("step-up union", union_scope);

    /* 4. Errors: a status, and details from the thread's last error. */
    printf("\n4. errors:\n");
    char *resource = NULL;
    s = mcpauth_resource_url_from_server_url("mcp.example.com/mcp", &resource);
    printf("  %-22s %s (%d): %s\n", "resource_url", mcpauth_status_name(s), (int)s,
           mcpauth_last_error_message());
    if (s != MCPAUTH_STATUS_INVALID_ARGUMENT || resource != NULL) return 1;

    s = mcpauth_validate_authorization_response_iss("https://evil.example.com", asm_json);
    printf("  %-22s %s (%d), check %s\n", "iss check", mcpauth_status_name(s), (int)s,
           mcpauth_last_error_check());
    if (s != MCPAUTH_STATUS_SECURITY_CHECK) return 1;

    s = mcpauth_extract_scope_from_www_auth(header, NULL);
    printf("  %-22s %s (%d): %s\n", "NULL out-parameter", mcpauth_status_name(s), (int)s,
           mcpauth_last_error_message());
    if (s != MCPAUTH_STATUS_NULL_ARGUMENT) return 1;

    printf("\nquickstart: ok\n");
    return 0;
}
