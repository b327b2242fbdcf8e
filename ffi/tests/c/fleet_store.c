/*
 * fleet_store.c: one process of a fleet sharing a credential store that the host writes itself
 * (a directory of files), with the refresh lease implemented by the host as an flock(2) on a
 * lease file (mcpauth_client_config_set_storage_lease). ffi/tests/c_examples.rs runs several of
 * these at once against the demo server in reuse-detection mode with 1-second tokens, with and
 * without the lease callbacks, and counts refreshes and reuses on the server's side.
 *
 *   fleet_store STORE_DIR SERVER_URL THREADS GENERATIONS LEASE(0|1)
 *
 * The store: STORE_DIR/<kind> holds "<key>\n<value JSON>", replaced atomically (a temporary
 * file renamed over it). The lease on a key: an exclusive flock on STORE_DIR/lease-<hash of
 * key>, waited for at most ttl_ms; the kernel drops it when the process dies.
 *
 * Prints "ready" and waits for a line on stdin (the parent starts every process at once), then
 * THREADS threads share one client and call tools/list until the process has seen GENERATIONS
 * distinct access tokens in the store (or 120 s pass), and prints
 * "fleet_store: calls N failures F distinct D".
 */
#define _DEFAULT_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mcpauth.h"

#define MAX_THREADS 32
#define MAX_SEEN 64
#define MAX_LEASES 16

static const char *dir;

/* ----------------------------------------------------------------------------------------- */
/* The store                                                                                  */
/* ----------------------------------------------------------------------------------------- */

static int path_of(char *out, size_t n, const char *name) {
    return snprintf(out, n, "%s/%s", dir, name) < (int)n ? 0 : -1;
}

/* The whole file, NUL-terminated (NULL when absent). */
static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
            }
            buf = bigger;
        }
    }
    fclose(f);
    if (buf) buf[len] = 0;
    return buf;
}

static void wipe_free(char *s) {
    if (!s) return;
    volatile char *v = s;
    while (*v) *v++ = 0;
    free(s);
}

/* The value stored under (kind, key), or NULL. */
static char *load(const char *kind, const char *key) {
    char path[4096];
    if (path_of(path, sizeof path, kind)) return NULL;
    char *content = read_file(path);
    if (!content) return NULL;
    char *nl = strchr(content, '\n');
    char *value = NULL;
    if (nl && (size_t)(nl - content) == strlen(key) && strncmp(content, key, strlen(key)) == 0)
        value = strdup(nl + 1);
    wipe_free(content);
    return value;
}

static int32_t store_get(void *userdata, const char *kind, const char *key,
                         mcpauth_reply *reply) {
    (void)userdata;
    char *value = load(kind, key);
    int32_t rc = 0;
    if (value) rc = mcpauth_reply_set_value(reply, value) == MCPAUTH_STATUS_OK ? 0 : 1;
    wipe_free(value);
    return rc;
}

static int32_t store_set(void *userdata, const char *kind, const char *key, const char *value,
                         mcpauth_reply *reply) {
    (void)userdata;
    char path[4096], tmp[4096], name[256];
    snprintf(name, sizeof name, ".tmp-%s-%ld-%lu", kind, (long)getpid(),
             (unsigned long)pthread_self());
    if (path_of(path, sizeof path, kind) || path_of(tmp, sizeof tmp, name)) {
        mcpauth_reply_set_error(reply, "path too long");
        return 1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        mcpauth_reply_set_error(reply, "cannot create the temporary file");
        return 1;
    }
    size_t klen = strlen(key), vlen = strlen(value);
    int ok = write(fd, key, klen) == (ssize_t)klen && write(fd, "\n", 1) == 1 &&
             write(fd, value, vlen) == (ssize_t)vlen && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        mcpauth_reply_set_error(reply, "cannot write the store");
        return 1;
    }
    return 0;
}

static int32_t store_remove(void *userdata, const char *kind, const char *key,
                            mcpauth_reply *reply) {
    (void)userdata;
    (void)reply;
    char *value = load(kind, key);
    char path[4096];
    if (value && path_of(path, sizeof path, kind) == 0) unlink(path);
    wipe_free(value);
    return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The lease: an flock per key, held by (owner → file descriptor)                             */
/* ----------------------------------------------------------------------------------------- */

static pthread_mutex_t leases_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char *owner;
    int fd;
} leases[MAX_LEASES];

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int32_t lease_lock(void *userdata, const char *key, const char *owner, uint64_t ttl_ms,
                          mcpauth_reply *reply) {
    (void)userdata;
    /* FNV-1a of the key names its lease file. */
    unsigned long long h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    char name[64], path[4096];
    snprintf(name, sizeof name, "lease-%016llx", h);
    if (path_of(path, sizeof path, name)) {
        mcpauth_reply_set_error(reply, "path too long");
        return 1;
    }
    /* A new open file description per acquisition: threads exclude each other too. */
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0) {
        mcpauth_reply_set_error(reply, "cannot open the lease file");
        return 1;
    }
    double deadline = now_ms() + (double)ttl_ms;
    long pause_us = 2000;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || now_ms() >= deadline) {
            close(fd);
            mcpauth_reply_set_error(reply, "the lease is held by another process");
            return 1;
        }
        usleep((useconds_t)pause_us);
        if (pause_us < 50000) pause_us *= 2;
    }
    pthread_mutex_lock(&leases_lock);
    for (int i = 0; i < MAX_LEASES; i++) {
        if (!leases[i].owner) {
            leases[i].owner = strdup(owner);
            leases[i].fd = fd;
            fd = -1;
            break;
        }
    }
    pthread_mutex_unlock(&leases_lock);
    if (fd >= 0) {
        close(fd);
        mcpauth_reply_set_error(reply, "too many leases");
        return 1;
    }
    return 0;
}

static int32_t lease_unlock(void *userdata, const char *key, const char *owner,
                            mcpauth_reply *reply) {
    (void)userdata;
    (void)key;
    (void)reply;
    pthread_mutex_lock(&leases_lock);
    for (int i = 0; i < MAX_LEASES; i++) {
        if (leases[i].owner && strcmp(leases[i].owner, owner) == 0) {
            flock(leases[i].fd, LOCK_UN);
            close(leases[i].fd);
            free(leases[i].owner);
            leases[i].owner = NULL;
        }
    }
    pthread_mutex_unlock(&leases_lock);
    return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* The workers                                                                                */
/* ----------------------------------------------------------------------------------------- */

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char *seen[MAX_SEEN];
static int n_seen, generations, calls, failures;
static char *resource;

static int seen_count(void) {
    pthread_mutex_lock(&seen_lock);
    int n = n_seen;
    pthread_mutex_unlock(&seen_lock);
    return n;
}

/* Record the access token the store holds now. */
static void observe(void) {
    char *value = load(MCPAUTH_STORAGE_KIND_TOKENS, resource);
    char *access = NULL;
    if (value) mcpauth_json_get(value, "/access_token", &access);
    wipe_free(value);
    if (!access) return;
    pthread_mutex_lock(&seen_lock);
    int known = 0;
    for (int i = 0; i < n_seen; i++) known |= strcmp(seen[i], access) == 0;
    if (!known && n_seen < MAX_SEEN) seen[n_seen++] = strdup(access);
    pthread_mutex_unlock(&seen_lock);
    mcpauth_string_free(access);
}

static void *work(void *arg) {
    const mcpauth_client *client = arg;
    time_t deadline = time(NULL) + 120;
    /* A failed call ends the run (the control, without the lease, fails once a reuse revoked
     * the grant). */
    while (seen_count() < generations && time(NULL) < deadline) {
        pthread_mutex_lock(&seen_lock);
        int failed = failures;
        pthread_mutex_unlock(&seen_lock);
        if (failed) break;
        mcpauth_response *response = NULL;
        mcpauth_status s = mcpauth_client_post_json(
            client, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{}}",
            &response);
        uint16_t status = 0;
        if (s == MCPAUTH_STATUS_OK) mcpauth_response_status(response, &status);
        mcpauth_response_free(response);
        pthread_mutex_lock(&seen_lock);
        calls++;
        if (status != 200) {
            if (failures++ < 3)
                printf("failure: %s %u %s\n", mcpauth_status_name(s), (unsigned)status,
                       s == MCPAUTH_STATUS_OK ? "" : mcpauth_last_error_message());
        }
        pthread_mutex_unlock(&seen_lock);
        observe();
        /* Pacing only; expiry is driven by the server's token lifetime. */
        usleep(40000);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s STORE_DIR SERVER_URL THREADS GENERATIONS LEASE\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    int n = atoi(argv[3]);
    if (n < 1 || n > MAX_THREADS) n = 4;
    generations = atoi(argv[4]);
    int lease = strcmp(argv[5], "1") == 0;

    char options[1024];
    snprintf(options, sizeof options, "{\"server_url\":\"%s\",\"timeout_ms\":120000,\"redirect\":{\"type\":\"headless\"}}", argv[2]);
    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s == MCPAUTH_STATUS_OK)
        s = mcpauth_client_config_set_storage(config, store_get, store_set, store_remove, NULL);
    if (s == MCPAUTH_STATUS_OK && lease)
        s = mcpauth_client_config_set_storage_lease(config, lease_lock, lease_unlock);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK || mcpauth_client_resource_key(client, &resource) != MCPAUTH_STATUS_OK) {
        printf("fleet_store: client: %s: %s\n", mcpauth_status_name(s),
               mcpauth_last_error_message());
        mcpauth_client_free(client);
        return 1;
    }

    printf("ready\n");
    fflush(stdout);
    char go[8];
    if (!fgets(go, sizeof go, stdin)) return 1;

    pthread_t threads[MAX_THREADS];
    int started = 0;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, work, (void *)client) != 0) break;
        started++;
    }
    for (int i = 0; i < started; i++) pthread_join(threads[i], NULL);

    printf("fleet_store: calls %d failures %d distinct %d\n", calls, failures, n_seen);
    for (int i = 0; i < n_seen; i++) free(seen[i]);
    mcpauth_string_free(resource);
    mcpauth_client_free(client);
    return started == n ? 0 : 1;
}
