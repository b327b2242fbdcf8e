/*
 * tls_probe.c: TLS trust through the C ABI. Builds a client from the options JSON given as
 * the only argument (server_url, and the "tls" member: ca_file, client_cert_file, ...), sends
 * one unauthenticated probe, and prints either
 *     status 401
 * or
 *     error CERTIFICATE: <message>
 * Exit status: 0 when the probe got an HTTP answer, 3 for MCPAUTH_STATUS_CERTIFICATE, 1 for
 * any other failure, 2 on usage errors.
 * Built and run by ffi/tests/c_examples.rs (also under valgrind and ASan/UBSan).
 */
#include <stdio.h>

#include "mcpauth.h"

static int fail(mcpauth_status s) {
    const char *msg = mcpauth_last_error_message();
    printf("error %s: %s\n", mcpauth_status_name(s), msg ? msg : "");
    return s == MCPAUTH_STATUS_CERTIFICATE ? 3 : 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: tls_probe OPTIONS_JSON\n");
        return 2;
    }
    mcpauth_client_config *config = NULL;
    mcpauth_status s = mcpauth_client_config_new(argv[1], &config);
    if (s != MCPAUTH_STATUS_OK) return fail(s);
    mcpauth_client *client = NULL;
    s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) return fail(s);
    char *probe = NULL;
    s = mcpauth_client_probe(client, &probe);
    int rc;
    if (s == MCPAUTH_STATUS_OK) {
        char *status = NULL;
        if (mcpauth_json_get(probe, "/status", &status) == MCPAUTH_STATUS_OK) {
            printf("status %s\n", status);
        }
        mcpauth_string_free(status);
        rc = 0;
    } else {
        rc = fail(s);
    }
    mcpauth_string_free(probe);
    mcpauth_client_free(client);
    return rc;
}
