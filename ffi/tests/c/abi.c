/*
 * abi.c: the header's macros and types agree with the loaded library.
 * Built and run by ffi/tests/c_examples.rs (also under valgrind and ASan/UBSan).
 */
#include <stdio.h>
#include <string.h>

#include "mcpauth.h"
#include "mcpauth.h" /* the include guard works */

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "abi.c:%d: check failed: %s\n", __LINE__, #cond);                  \
            return 1;                                                                          \
        }                                                                                      \
    } while (0)

int main(void) {
    /* Versions: header macros == runtime. */
    CHECK(strcmp(mcpauth_version(), MCPAUTH_VERSION) == 0);
    CHECK(mcpauth_abi_version() == MCPAUTH_ABI_VERSION);
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", MCPAUTH_VERSION_MAJOR, MCPAUTH_VERSION_MINOR,
             MCPAUTH_VERSION_PATCH);
    CHECK(strncmp(MCPAUTH_VERSION, expected, strlen(expected)) == 0);
    CHECK(MCPAUTH_VERSION_NUMBER == MCPAUTH_VERSION_MAJOR * 1000000 +
                                        MCPAUTH_VERSION_MINOR * 1000 + MCPAUTH_VERSION_PATCH);

    /* mcpauth_status is a fixed-width int32_t with stable values. */
    CHECK(sizeof(mcpauth_status) == sizeof(int32_t));
    CHECK(MCPAUTH_STATUS_OK == 0);
    CHECK(MCPAUTH_STATUS_INVALID_ARGUMENT == 100);
    CHECK(MCPAUTH_STATUS_NULL_ARGUMENT == 150);
    CHECK(MCPAUTH_STATUS_INVALID_UTF8 == 151);
    CHECK(MCPAUTH_STATUS_TRANSPORT == 200);
    CHECK(MCPAUTH_STATUS_TIMEOUT == 201);
    CHECK(MCPAUTH_STATUS_RESPONSE_TOO_LARGE == 202);
    CHECK(MCPAUTH_STATUS_CERTIFICATE == 203);
    CHECK(MCPAUTH_STATUS_INVALID_RESPONSE == 300);
    CHECK(MCPAUTH_STATUS_DISCOVERY == 301);
    CHECK(MCPAUTH_STATUS_REGISTRATION == 302);
    CHECK(MCPAUTH_STATUS_AUTHORIZATION == 303);
    CHECK(MCPAUTH_STATUS_TOKEN == 304);
    CHECK(MCPAUTH_STATUS_UNAUTHORIZED == 305);
    CHECK(MCPAUTH_STATUS_SECURITY_CHECK == 400);
    CHECK(MCPAUTH_STATUS_INSECURE_URL == 401);
    CHECK(MCPAUTH_STATUS_UNSUPPORTED == 402);
    CHECK(MCPAUTH_STATUS_STORAGE == 500);
    CHECK(MCPAUTH_STATUS_INTERNAL == 900);
    CHECK(MCPAUTH_STATUS_PANIC == 950);
    CHECK(strcmp(mcpauth_status_name(MCPAUTH_STATUS_NULL_ARGUMENT), "NULL_ARGUMENT") == 0);
    CHECK(strcmp(mcpauth_status_name(12345), "UNKNOWN") == 0);
    CHECK(strcmp(mcpauth_status_str(-1), "unknown status") == 0);
    CHECK(strcmp(MCPAUTH_STORAGE_KIND_TOKENS, "tokens") == 0);
    CHECK(strcmp(MCPAUTH_STORAGE_KIND_CLIENT_INFO, "client_info") == 0);

    /* Last error: cleared by a successful call, set by a failed one, untouched by getters. */
    char *out = NULL;
    CHECK(mcpauth_union_scopes("a", "b", &out) == MCPAUTH_STATUS_OK);
    CHECK(strcmp(out, "a b") == 0);
    mcpauth_string_free(out);
    CHECK(mcpauth_last_error_message() == NULL);
    CHECK(mcpauth_last_error_status() == MCPAUTH_STATUS_OK);
    out = (char *)"untouched";
    CHECK(mcpauth_resource_url_from_server_url("not a url", &out) ==
          MCPAUTH_STATUS_INVALID_ARGUMENT);
    CHECK(strcmp(out, "untouched") == 0); /* out-parameters are written only on success */
    CHECK(mcpauth_last_error_status() == MCPAUTH_STATUS_INVALID_ARGUMENT);
    CHECK(mcpauth_last_error_message() != NULL);
    CHECK(mcpauth_last_error_json() != NULL);
    CHECK(mcpauth_last_error_status() == MCPAUTH_STATUS_INVALID_ARGUMENT);

    /* Every _free accepts NULL. */
    mcpauth_string_free(NULL);
    mcpauth_client_config_free(NULL);
    mcpauth_client_free(NULL);
    mcpauth_response_free(NULL);

    puts("abi: ok");
    return 0;
}
