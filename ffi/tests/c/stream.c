/*
 * MCP traffic is not OAuth traffic, from C: a fresh client (headless redirect) reads a large
 * `big` tool result through `mcpauth_stream_read` with a 64 KiB buffer, checking every byte,
 * then a `ticker` `text/event-stream` event by event through `mcpauth_stream_next_event`,
 * checking their order and the final result. The authorization flow runs on the first 401,
 * before the head of the first stream.
 *
 * Run by ffi/tests/c_stream.rs, which holds the demo server and checks its counters at two
 * points the program announces on stdout and waits at (it reads a line from stdin to go on):
 * `first-mib` once the first MiB of the result was read, `first-event` once the first event
 * was. It also prints `memory: rss-before KIB hwm-after KIB` (from /proc/self/status) so that
 * the runner can bound the growth of the peak RSS over the read.
 *
 *   stream SERVER_URL
 *
 * Environment: MCPAUTH_TEST_BIG_BYTES (default 50 MiB), MCPAUTH_TEST_SSE_SECS (default 60:
 * SECS + 1 progress events 1000 ms apart, then the result).
 */
#include <mcpauth.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1024ull * 1024ull)
#define CHUNK (64 * 1024)

static const char PATTERN[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
static const char PREFIX[] = "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"";
static const char SUFFIX[] = "\"}]}}";
static const char HEADERS[] =
    "{\"Content-Type\":\"application/json\",\"Accept\":\"application/json, text/event-stream\"}";

static int fail(const char *what, mcpauth_status s) {
    const char *m = mcpauth_last_error_message();
    printf("stream: %s: %s: %s\n", what, mcpauth_status_name(s), m ? m : "");
    return 1;
}

static int failed(const char *what) {
    printf("stream: %s\n", what);
    return 1;
}

/* A field of /proc/self/status in KiB, or -1. */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Announce a point and wait until the runner says to go on. */
static int checkpoint(const char *name) {
    printf("%s\n", name);
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin) || strncmp(line, "go", 2) != 0) return failed("no go");
    return 0;
}

static unsigned long long env_ull(const char *name, unsigned long long def) {
    const char *v = getenv(name);
    return v && *v ? strtoull(v, NULL, 10) : def;
}

static mcpauth_status call(const mcpauth_client *client, const char *name, const char *arguments,
                           mcpauth_stream **out) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
             "\"arguments\":%s}}",
             name, arguments);
    return mcpauth_client_send_streamed(client, "POST", NULL, HEADERS, (const uint8_t *)body,
                                        strlen(body), out);
}

static int read_big(const mcpauth_client *client, unsigned long long bytes) {
    static uint8_t buf[CHUNK];
    char args[64];
    snprintf(args, sizeof args, "{\"bytes\":%llu}", bytes);
    long rss_before = status_kib("VmRSS");
    mcpauth_stream *stream = NULL;
    mcpauth_status s = call(client, "big", args, &stream);
    if (s != MCPAUTH_STATUS_OK) return fail("send big", s);
    uint16_t status = 0;
    uint32_t authorizations = 0;
    bool events = true;
    char *challenge = NULL;
    mcpauth_stream_status(stream, &status);
    mcpauth_stream_authorizations(stream, &authorizations);
    mcpauth_stream_is_event_stream(stream, &events);
    mcpauth_stream_challenge_json(stream, &challenge);
    printf("big: status %u, authorizations %u, challenge %s, event stream %s\n", status,
           authorizations, challenge ? "kept" : "none", events ? "yes" : "no");
    mcpauth_string_free(challenge);
    if (status != 200 || events) {
        mcpauth_stream_free(stream);
        return failed("big: not a 200 JSON answer");
    }

    const unsigned long long plen = sizeof PREFIX - 1, slen = sizeof SUFFIX - 1;
    const unsigned long long total = plen + bytes + slen;
    unsigned long long offset = 0;
    int announced = 0, bad = 0;
    for (;;) {
        size_t n = 0;
        s = mcpauth_stream_read(stream, buf, sizeof buf, &n);
        if (s != MCPAUTH_STATUS_OK) {
            mcpauth_stream_free(stream);
            return fail("read big", s);
        }
        if (n == 0) break;
        for (size_t i = 0; i < n && !bad; i++, offset++) {
            uint8_t want;
            if (offset < plen)
                want = (uint8_t)PREFIX[offset];
            else if (offset < plen + bytes)
                want = (uint8_t)PATTERN[(offset - plen) % 64];
            else if (offset < total)
                want = (uint8_t)SUFFIX[offset - plen - bytes];
            else
                want = 0, bad = 1;
            if (buf[i] != want) {
                printf("stream: byte %llu of the body is 0x%02x, expected 0x%02x\n", offset,
                       buf[i], want);
                bad = 1;
            }
        }
        if (bad) break;
        if (!announced && offset >= MIB) {
            announced = 1;
            if (checkpoint("first-mib")) {
                mcpauth_stream_free(stream);
                return 1;
            }
        }
    }
    mcpauth_stream_free(stream);
    if (bad) return 1;
    if (offset != total) {
        printf("stream: the body has %llu bytes, expected %llu\n", offset, total);
        return 1;
    }
    printf("big: %llu bytes read and checked\n", offset);
    printf("memory: rss-before %ld hwm-after %ld\n", rss_before, status_kib("VmHWM"));
    return 0;
}

/* A member of a JSON document as a new string (NULL when absent). */
static char *get(const char *json, const char *pointer) {
    char *out = NULL;
    if (mcpauth_json_get(json, pointer, &out) != MCPAUTH_STATUS_OK) return NULL;
    return out;
}

static int read_ticker(const mcpauth_client *client, unsigned long long seconds) {
    unsigned long long count = seconds + 1; /* one at once, then one per second */
    char args[96];
    snprintf(args, sizeof args, "{\"count\":%llu,\"interval_ms\":1000}", count);
    mcpauth_stream *stream = NULL;
    mcpauth_status s = call(client, "ticker", args, &stream);
    if (s != MCPAUTH_STATUS_OK) return fail("send ticker", s);
    bool events = false;
    char *content_type = NULL;
    mcpauth_stream_is_event_stream(stream, &events);
    mcpauth_stream_header(stream, "content-type", &content_type);
    printf("ticker: content-type %s\n", content_type ? content_type : "(none)");
    mcpauth_string_free(content_type);
    if (!events) {
        mcpauth_stream_free(stream);
        return failed("ticker: not an event stream");
    }
    unsigned long long progress = 0;
    int result = 0, bad = 0;
    for (;;) {
        char *event = NULL;
        s = mcpauth_stream_next_event(stream, &event);
        if (s != MCPAUTH_STATUS_OK) {
            mcpauth_stream_free(stream);
            return fail("next event", s);
        }
        if (!event) break;
        char *type = get(event, "/event"), *data = get(event, "/data"), *id = get(event, "/id");
        char *method = data ? get(data, "/method") : NULL;
        char want_id[32];
        snprintf(want_id, sizeof want_id, "%llu", progress + 1);
        if (!type || strcmp(type, "message") != 0 || !id || strcmp(id, want_id) != 0 || result) {
            printf("stream: unexpected event %s\n", event);
            bad = 1;
        } else if (method && strcmp(method, "notifications/progress") == 0) {
            char *k = get(data, "/params/progress");
            progress++;
            if (!k || strtoull(k, NULL, 10) != progress) {
                printf("stream: progress %s, expected %llu\n", k ? k : "(none)", progress);
                bad = 1;
            }
            mcpauth_string_free(k);
            if (progress == 1 && !bad) bad = checkpoint("first-event");
        } else {
            char *text = data ? get(data, "/result/content/0/text") : NULL;
            char want[64];
            snprintf(want, sizeof want, "ticked %llu", count);
            if (!text || strcmp(text, want) != 0) {
                printf("stream: result %s, expected %s\n", data ? data : "(none)", want);
                bad = 1;
            }
            result = 1;
            mcpauth_string_free(text);
        }
        mcpauth_string_free(method);
        mcpauth_string_free(id);
        mcpauth_string_free(data);
        mcpauth_string_free(type);
        mcpauth_string_free(event);
        if (bad) break;
    }
    mcpauth_stream_free(stream);
    if (bad) return 1;
    if (progress != count || !result) {
        printf("stream: %llu progress events and %s result, expected %llu and one\n", progress,
               result ? "a" : "no", count);
        return 1;
    }
    printf("ticker: %llu progress events in order, then the result\n", progress);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s SERVER_URL\n", argv[0]);
        return 2;
    }
    unsigned long long bytes = env_ull("MCPAUTH_TEST_BIG_BYTES", 50 * MIB);
    unsigned long long seconds = env_ull("MCPAUTH_TEST_SSE_SECS", 60);

    /* A fresh client: default options (headless redirect, the OAuth 30 s timeout and 1 MiB cap
     * for OAuth requests; no cap and the idle timeout for MCP ones). */
    char options[512];
    snprintf(options, sizeof options, "{\"server_url\":\"%s\",\"redirect\":{\"type\":\"headless\"}}",
             argv[1]);
    mcpauth_client_config *config = NULL;
    mcpauth_client *client = NULL;
    mcpauth_status s = mcpauth_client_config_new(options, &config);
    if (s == MCPAUTH_STATUS_OK) s = mcpauth_client_new(config, &client);
    mcpauth_client_config_free(config);
    if (s != MCPAUTH_STATUS_OK) return fail("client", s);

    int rc = read_big(client, bytes);
    if (rc == 0) rc = read_ticker(client, seconds);
    mcpauth_client_free(client);
    if (rc == 0) printf("stream: ok\n");
    return rc;
}
