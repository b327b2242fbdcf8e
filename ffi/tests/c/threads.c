/*
 * threads.c: many threads share one mcpauth_client through the C ABI, starting from an expired
 * token in the host's storage: exactly one refresh, every request succeeds with the new token,
 * and the host storage ends up with it (ffi/tests/c_examples.rs runs it against the demo
 * server, plainly, under valgrind, ASan/UBSan and ThreadSanitizer).
 *
 *   MCPAUTH_TEST_TOKENS='{"access_token":…,"refresh_token":…,"expires_at":<past>}' \
 *   MCPAUTH_TEST_CLIENT_INFO='{"client_id":…,"client_secret":…,"issuer":…}' \
 *   MCPAUTH_TEST_ISSUER=http://127.0.0.1:P threads SERVER_URL [THREADS]
 *
 * The storage callbacks, the trace observer and their shared state are called from every
 * thread at once, under a pthread mutex: what ThreadSanitizer checks here is the C side of the
 * contract (callbacks, userdata, strings handed across threads, the per-thread last error).
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcpauth.h"

#define MAX_THREADS 64

/* ----------------------------------------------------------------------------------------- */
/* Host storage: two slots (tokens, client_info), each with the key it was stored under.       */
/* ----------------------------------------------------------------------------------------- */

struct slot {
    char *key;
    char *value;
};

struct host {
    pthread_mutex_t lock;
    struct slot tokens, client_info;
    int token_sets, gets, refresh_events, failed_events;
};

static char *copy(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static void wipe_free(char *s) {
    if (!s) return;
    volatile char *v = s;
    while (*v) *v++ = 0;
    free(s);
}

static struct slot *slot_of(struct host *h, const char *kind) {
    if (strcmp(kind, MCPAUTH_STORAGE_KIND_TOKENS) == 0) return &h->tokens;
    if (strcmp(kind, MCPAUTH_STORAGE_KIND_CLIENT_INFO) == 0) return &h->client_info;
    return NULL;
}

static int32_t store_get(void *userdata, const char *kind, const char *key,
                         mcpauth_reply *reply) {
    struct host *h = userdata;
    int32_t rc = 0;
    pthread_mutex_lock(&h->lock);
    h->gets++;
    struct slot *s = slot_of(h, kind);
    if (s && s->key && s->value && strcmp(s->key, key) == 0)
        rc = mcpauth_reply_set_value(reply, s->value) == MCPAUTH_STATUS_OK ? 0 : 1;
    pthread_mutex_unlock(&h->lock);
    return rc;
}

static int32_t store_set(void *userdata, const char *kind, const char *key, const char *value,
                         mcpauth_reply *reply) {
    struct host *h = userdata;
    struct slot *s = slot_of(h, kind);
    if (!s) {
        mcpauth_reply_set_error(reply, "unknown kind");
        return 1;
    }
    char *k = copy(key), *v = copy(value);
    if (!k || !v) {
        free(k);
        free(v);
        mcpauth_reply_set_error(reply, "out of memory");
        return 1;
    }
    pthread_mutex_lock(&h->lock);
    if (s == &h->tokens) h->token_sets++;
    free(s->key);
    wipe_free(s->value);
    s->key = k;
    s->value = v;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static int32_t store_remove(void *userdata, const char *kind, const char *key,
                            mcpauth_reply *reply) {
    (void)reply;
    struct host *h = userdata;
    pthread_mutex_lock(&h->lock);
    struct slot *s = slot_of(h, kind);
    if (s && s->key && strcmp(s->key, key) == 0) {
        free(s->key);
        wipe_free(s->value);
        s->key = s->value = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    return 0;
}

/* MCPAUTH_TEST_RACE=1: count trace events without the lock, a deliberate data race that the
 * ThreadSanitizer run must report (proof that its suppressions hide no race in C code). */
static int racy = 0;
static int racy_events = 0;

static void on_trace(void *userdata, const char *event_json) {
    struct host *h = userdata;
    if (racy) racy_events++;
    char *step = NULL, *outcome = NULL;
    mcpauth_json_get(event_json, "/step", &step);
    mcpauth_json_get(event_json, "/outcome", &outcome);
    pthread_mutex_lock(&h->lock);
    if (step && strcmp(step, "refresh") == 0) h->refresh_events++;
    if (outcome && strcmp(outcome, "failed") == 0) h->failed_events++;
    pthread_mutex_unlock(&h->lock);
    mcpauth_string_free(step);
    mcpauth_string_free(outcome);
}

/* ----------------------------------------------------------------------------------------- */
/* The threads                                                                                */
/* ----------------------------------------------------------------------------------------- */

struct worker {
    const mcpauth_client *client;
    pthread_barrier_t *start;
    int ok;
    char *token; /* mcpauth_client_current_token after the request */
    char error[256];
};

static void *work(void *arg) {
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    mcpauth_response *response = NULL;
    mcpauth_status s = mcpauth_client_post_json(
        w->client,
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
        "\"params\":{\"name\":\"test-tool\",\"arguments\":{}}}",
        &response);
    if (s != MCPAUTH_STATUS_OK) {
        /* The last error is this thread's own. */
        snprintf(w->error, sizeof w->error, "send: %s: %s", mcpauth_status_name(s),
                 mcpauth_last_error_message());
        return NULL;
    }
    uint16_t status = 0;
    mcpauth_response_status(response, &status);
    mcpauth_response_free(response);
    if (status != 200) {
        snprintf(w->error, sizeof w->error, "status %u", (unsigned)status);
        return NULL;
    }
    s = mcpauth_client_current_token(w->client, &w->token);
    if (s != MCPAUTH_STATUS_OK || !w->token) {
        snprintf(w->error, sizeof w->error, "current_token: %s", mcpauth_status_name(s));
        return NULL;
    }
    if (mcpauth_last_error_message() != NULL) {
        snprintf(w->error, sizeof w->error, "a success left a last error");
        return NULL;
    }
    w->ok = 1;
    return NULL;
}

static int fail(const char *what) {
    printf("threads: %s\n", what);
    return 1;
}

int main(int argc, char **argv) {
    const char *tokens = getenv("MCPAUTH_TEST_TOKENS");
    const char *client_info = getenv("MCPAUTH_TEST_CLIENT_INFO");
    const char *issuer = getenv("MCPAUTH_TEST_ISSUER");
    if (argc < 2 || !tokens || !client_info || !issuer) {
        fprintf(stderr, "usage: MCPAUTH_TEST_TOKENS=… MCPAUTH_TEST_CLIENT_INFO=… "
                        "MCPAUTH_TEST_ISSUER=… %s SERVER_URL [THREADS]\n",
                argv[0]);
        return 2;
    }
    const char *race = getenv("MCPAUTH_TEST_RACE");
    racy = race && strcmp(race, "1") == 0;
    int n = argc > 2 ? atoi(argv[2]) : 16;
    if (n < 1 || n > MAX_THREADS) n = 16;

    struct host host = {.lock = PTHREAD_MUTEX_INITIALIZER};
    char options[1024];
    snprintf(options, sizeof options, "{\"server_url\":\"%s\",\"timeout_ms\":120000,\"redirect\":{\"type\":\"headless\"}}", argv[1]);
    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s == MCPAUTH_STATUS_OK)
        s = mcpauth_client_config_set_storage(config, store_get, store_set, store_remove, &host);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_config_set_trace(config, on_trace, &host);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) {
        printf("threads: client: %s: %s\n", mcpauth_status_name(s), mcpauth_last_error_message());
        return 1;
    }

    /* Seed the storage: the expired token under the resource key, the registration under the
     * issuer. */
    char *resource = NULL;
    if (mcpauth_client_resource_key(client, &resource) != MCPAUTH_STATUS_OK) {
        mcpauth_client_free(client);
        return fail("resource key");
    }
    host.tokens.key = copy(resource);
    host.tokens.value = copy(tokens);
    host.client_info.key = copy(issuer);
    host.client_info.value = copy(client_info);
    mcpauth_string_free(resource);
    char *seeded = NULL;
    mcpauth_json_get(tokens, "/access_token", &seeded);

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    struct worker workers[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int started = 0;
    for (int i = 0; i < n; i++) {
        workers[i] = (struct worker){.client = client, .start = &start};
        if (pthread_create(&threads[i], NULL, work, &workers[i]) != 0) break;
        started++;
    }
    if (started != n) {
        /* The barrier would never open: the C driver cannot recover from that. */
        printf("threads: could only start %d threads\n", started);
        return 1;
    }
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);

    int failures = 0, ok = 0, same = 1;
    for (int i = 0; i < n; i++) {
        if (workers[i].ok) {
            ok++;
            if (strcmp(workers[i].token, workers[0].token) != 0) same = 0;
        } else {
            printf("  thread %d: %s\n", i, workers[i].error);
        }
    }
    if (ok != n) failures++;
    if (!same) {
        fail("threads ended with different tokens");
        failures++;
    }

    /* The stored token is the refreshed one, which every thread holds. */
    char *stored = NULL;
    mcpauth_json_get(host.tokens.value ? host.tokens.value : "null", "/access_token", &stored);
    if (!stored || !workers[0].token || strcmp(stored, workers[0].token) != 0) {
        fail("the storage does not hold the token the threads use");
        failures++;
    }
    if (stored && seeded && strcmp(stored, seeded) == 0) {
        fail("the expired token was not replaced");
        failures++;
    }
    char *refresh = NULL;
    mcpauth_json_get(host.tokens.value ? host.tokens.value : "null", "/refresh_token", &refresh);
    if (!refresh) {
        fail("the refresh token was lost");
        failures++;
    }

    printf("threads: %d threads, %d ok, %d refresh(es) traced, %d token store(s), %d failed "
           "step(s)\n",
           n, ok, host.refresh_events, host.token_sets, host.failed_events);
    if (racy) printf("threads: %d events counted without the lock\n", racy_events);
    if (host.refresh_events != 1 || host.token_sets != 1) {
        fail("expected exactly one refresh");
        failures++;
    }

    for (int i = 0; i < n; i++) mcpauth_string_free(workers[i].token);
    mcpauth_string_free(stored);
    mcpauth_string_free(seeded);
    mcpauth_string_free(refresh);
    mcpauth_client_free(client);
    free(host.tokens.key);
    wipe_free(host.tokens.value);
    free(host.client_info.key);
    wipe_free(host.client_info.value);
    pthread_mutex_destroy(&host.lock);
    if (failures) return fail("FAILED");
    printf("threads: ok\n");
    return 0;
}
