/*
 * cancel.c: mcpauth_client_cancel from another thread ends a login in progress (here waiting
 * for a browser redirect that never comes: the loopback wait is 300 s) with
 * MCPAUTH_STATUS_CANCELLED, and the client stays usable (ffi/tests/c_examples.rs runs it
 * against the demo server, plainly and under valgrind).
 *
 *   cancel SERVER_URL
 *
 * The cancelling thread waits (on a condition variable, no sleep) for the trace event of the
 * step just before the authorization (client identity / registration), then cancels. It prints
 * "cancel: ok" and the measured time from the cancel to the call's return.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mcpauth.h"

struct shared {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    int identity_done;
    const mcpauth_client *client;
    struct timespec cancelled_at;
};

static void on_trace(void *userdata, const char *event_json) {
    struct shared *sh = userdata;
    char *step = NULL;
    if (mcpauth_json_get(event_json, "/step", &step) != MCPAUTH_STATUS_OK || !step) return;
    if (strcmp(step, "registration") == 0 || strcmp(step, "client_identity") == 0) {
        pthread_mutex_lock(&sh->lock);
        sh->identity_done = 1;
        pthread_cond_signal(&sh->ready);
        pthread_mutex_unlock(&sh->lock);
    }
    mcpauth_string_free(step);
}

static int log_records; /* records of the mcp_auth targets, under log_lock */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_log(void *userdata, int32_t level, const char *target, const char *message) {
    (void)userdata;
    (void)message;
    if (level >= 1 && level <= 4 && strncmp(target, "mcp_auth", 8) == 0) {
        pthread_mutex_lock(&log_lock);
        log_records++;
        pthread_mutex_unlock(&log_lock);
    }
}

/* The host shows the authorization URL; here nobody follows it: the wait is cancelled. */
static void ignore_url(void *userdata, const char *authorization_url, bool browser_opened) {
    (void)userdata;
    (void)authorization_url;
    (void)browser_opened;
}

static void *canceller(void *arg) {
    struct shared *sh = arg;
    pthread_mutex_lock(&sh->lock);
    while (!sh->identity_done) pthread_cond_wait(&sh->ready, &sh->lock);
    pthread_mutex_unlock(&sh->lock);
    clock_gettime(CLOCK_MONOTONIC, &sh->cancelled_at);
    if (mcpauth_client_cancel(sh->client) != MCPAUTH_STATUS_OK) {
        fprintf(stderr, "cancel: mcpauth_client_cancel failed\n");
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SERVER_URL\n", argv[0]);
        return 2;
    }
    if (mcpauth_client_cancel(NULL) != MCPAUTH_STATUS_NULL_ARGUMENT) {
        fprintf(stderr, "cancel: NULL is not refused\n");
        return 1;
    }
    if (mcpauth_set_log_callback(on_log, NULL, 4) != MCPAUTH_STATUS_OK) {
        fprintf(stderr, "cancel: mcpauth_set_log_callback failed\n");
        return 1;
    }
    char options[2048];
    snprintf(options, sizeof options,
             "{\"server_url\":\"%s\",\"client_name\":\"cancel-test\",\"timeout_ms\":60000,"
             "\"redirect\":{\"type\":\"loopback\",\"port\":0,\"timeout_secs\":300,"
             "\"open_browser\":false}}",
             argv[1]);
    struct shared sh;
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.ready, NULL);

    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_config_set_trace(config, on_trace, &sh);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_config_set_url_handler(config, ignore_url, NULL);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) {
        fprintf(stderr, "cancel: configuration failed: %s\n", mcpauth_last_error_message());
        return 1;
    }
    sh.client = client;

    pthread_t t;
    pthread_create(&t, NULL, canceller, &sh);
    mcpauth_response *response = NULL;
    s = mcpauth_client_post_json(
        client, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &response);
    struct timespec returned;
    clock_gettime(CLOCK_MONOTONIC, &returned);
    pthread_join(t, NULL);
    mcpauth_response_free(response);
    int failed = 0;
    if (s != MCPAUTH_STATUS_CANCELLED) {
        fprintf(stderr, "cancel: the login returned %s, not CANCELLED: %s\n",
                mcpauth_status_name(s), mcpauth_last_error_message());
        failed = 1;
    }
    double ms = (double)(returned.tv_sec - sh.cancelled_at.tv_sec) * 1e3 +
                (double)(returned.tv_nsec - sh.cancelled_at.tv_nsec) / 1e6;

    /* The client stays usable: a probe runs normally after the cancel. */
    char *probe = NULL;
    s = mcpauth_client_probe(client, &probe);
    if (s != MCPAUTH_STATUS_OK) {
        fprintf(stderr, "cancel: probe after the cancel failed: %s\n", mcpauth_status_name(s));
        failed = 1;
    }
    mcpauth_string_free(probe);
    mcpauth_client_free(client);
    pthread_cond_destroy(&sh.ready);
    pthread_mutex_destroy(&sh.lock);
    mcpauth_set_log_callback(NULL, NULL, 0);
    if (log_records == 0) {
        fprintf(stderr, "cancel: the log callback received no record\n");
        failed = 1;
    }
    if (failed) return 1;
    printf("cancel: ok (returned %.1f ms after the cancel; %d log records)\n", ms, log_records);
    return 0;
}
