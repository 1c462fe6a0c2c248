/*
 * A plugin written to break the sandbox. Its plugin configuration picks one attack (first word; the rest is an
 * argument). Every attack reports what the host answered in a header the tests read, so a test can tell "refused"
 * from "not tried". The gateway must refuse each attack and keep serving.
 */
#include "proxy_wasm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROOTS 64
#define S(text) text, sizeof(text) - 1

__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_write")))
int wasi_fd_write(int fd, const void *iovs, size_t count, size_t *written);

static char modes[MAX_ROOTS][32];
static char *payload[MAX_ROOTS];      /* decoded argument (base64), per root */
static size_t payload_len[MAX_ROOTS];
static uint32_t parent_of[4096];
static uint32_t owned_queue;

EXPORT(proxy_abi_version_0_2_1) void abi_marker(void) {}
EXPORT(proxy_on_memory_allocate) void *on_memory_allocate(size_t size) { return malloc(size); }

static uint32_t root_of(uint32_t c) { uint32_t p = parent_of[c % 4096]; return p == 0 ? c : p; }
static const char *mode_of(uint32_t c) { return modes[root_of(c) % MAX_ROOTS]; }
static int is(uint32_t c, const char *mode) { return strcmp(mode_of(c), mode) == 0; }

static void report(int map, const char *name, const char *text) {
    proxy_add_header_map_value(map, name, strlen(name), text, strlen(text));
}

static void report_int(int map, const char *name, long value) {
    char text[24];
    snprintf(text, sizeof text, "%ld", value);
    report(map, name, text);
}

static int b64(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static size_t base64_decode(const char *in, size_t len, char *out) {
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64(in[i]);
        if (v < 0) continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[n++] = (char)(acc >> bits); }
    }
    return n;
}

/* A serialized header map with one pair. */
static size_t one_pair(char *out, const char *key, const char *value) {
    uint32_t count = 1, k = (uint32_t)strlen(key), v = (uint32_t)strlen(value);
    memcpy(out, &count, 4);
    memcpy(out + 4, &k, 4);
    memcpy(out + 8, &v, 4);
    memcpy(out + 12, key, k + 1);
    memcpy(out + 13 + k, value, v + 1);
    return 14 + k + v;
}

EXPORT(proxy_on_context_create) void on_context_create(uint32_t id, uint32_t parent) { parent_of[id % 4096] = parent; }

EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) { return 1; }

EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
    char *data = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, &data, &length);
    char *mode = modes[root % MAX_ROOTS];
    size_t i = 0;
    while (i < length && i < 31 && data[i] != ' ') { mode[i] = data[i]; i++; }
    mode[i] = 0;
    if (i < length) {
        payload[root % MAX_ROOTS] = malloc(length);
        payload_len[root % MAX_ROOTS] = base64_decode(data + i + 1, length - i - 1, payload[root % MAX_ROOTS]);
    }
    free(data);
    if (strcmp(mode, "queue_owner") == 0) {
        proxy_register_shared_queue(S("secret"), &owned_queue);
        proxy_enqueue_shared_queue(owned_queue, S("s3cret"));
        proxy_set_shared_data(S("token"), S("s3cret"), 0);
    }
    if (strcmp(mode, "slow_tick") == 0) proxy_set_tick_period_milliseconds(1);
    if (strcmp(mode, "spin_tick") == 0) proxy_set_tick_period_milliseconds(500);
    if (strcmp(mode, "metrics_collide") == 0) {
        uint32_t id;
        proxy_define_metric(0, S("a.b"), &id);
        proxy_increment_metric(id, 1);
        proxy_define_metric(1, S("a-b"), &id); /* the same exported name with another type: refused */
        proxy_define_metric(0, S("a_b"), &id); /* the same series as "a.b" */
        proxy_increment_metric(id, 1);
        proxy_define_metric(2, S("h"), &id);
        proxy_record_metric(id, 5);
        proxy_define_metric(0, S("h_count"), &id); /* would duplicate the summary's own sample */
        for (int m = 0; m < 1000; m++) {
            char name[16];
            snprintf(name, sizeof name, "m%d", m);
            proxy_define_metric(0, name, strlen(name), &id);
        }
    }
    return 1;
}

/* Header injection into the request going upstream: every write must answer BAD_ARGUMENT (2). */
static void inject_request(void) {
    int r[] = {
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, S("x-a"), S("1\r\nx-smuggled: 1")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S("x-b"), S("1\nx-smuggled: 1")),
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, S("x-c\r\nx-smuggled"), S("1")),
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, S("x-d"), S("nul\0byte")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":path"), S("/x HTTP/1.1\r\nx-smuggled: 1\r\n\r\nGET /y")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":authority"), S("a.test\r\nx-smuggled: 1")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":method"), S("GET /z HTTP/1.1\r\n")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":method"), S("HEAD")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S("connection"), S("upgrade")),
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, S("upgrade"), S("websocket")),
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, S(":bogus"), S("1")),
        proxy_set_header_map_pairs(MAP_REQUEST_HEADERS,
            "\x01\x00\x00\x00" "\x03\x00\x00\x00" "\x0f\x00\x00\x00" "x-e\0" "1\r\nx-smuggled:1\0", 4 + 8 + 4 + 16),
    };
    char list[128] = "";
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        char item[8];
        snprintf(item, sizeof item, i ? ",%d" : "%d", r[i]);
        strcat(list, item);
    }
    report(MAP_REQUEST_HEADERS, "x-inject-results", list);
}

static void http_call_framing(void) {
    static const char headers[] =
        "\x07\x00\x00\x00"
        "\x07\x00\x00\x00" "\x04\x00\x00\x00"
        "\x05\x00\x00\x00" "\x08\x00\x00\x00"
        "\x0a\x00\x00\x00" "\x07\x00\x00\x00"
        "\x11\x00\x00\x00" "\x07\x00\x00\x00"
        "\x0e\x00\x00\x00" "\x01\x00\x00\x00"
        "\x0a\x00\x00\x00" "\x07\x00\x00\x00"
        "\x07\x00\x00\x00" "\x09\x00\x00\x00"
        ":method\0" "POST\0"
        ":path\0" "/callout\0"
        ":authority\0" "callout\0"
        "transfer-encoding\0" "chunked\0"
        "content-length\0" "9\0"
        "connection\0" "upgrade\0"
        "upgrade\0" "websocket\0";
    uint32_t token = 0;
    int r = proxy_http_call(S("callout"), headers, sizeof headers - 1, S("hello"), NULL, 0, 1000, &token);
    report_int(MAP_REQUEST_HEADERS, "x-call-result", r);
}

static void grow_headers(void) {
    long added = 0;
    int last = 0;
    for (int i = 0; i < 10000; i++) {
        char name[16];
        snprintf(name, sizeof name, "x-flood-%d", i);
        last = proxy_add_header_map_value(MAP_REQUEST_HEADERS, name, strlen(name), S("vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"));
        if (last != 0) break;
        added++;
    }
    /* The report itself may no longer fit: put it into a property the test cannot see, and a status header. */
    proxy_remove_header_map_value(MAP_REQUEST_HEADERS, S("x-flood-0"));
    proxy_remove_header_map_value(MAP_REQUEST_HEADERS, S("x-flood-1"));
    report_int(MAP_REQUEST_HEADERS, "x-flood-added", added);
    report_int(MAP_REQUEST_HEADERS, "x-flood-last", last);
}

static void flood_shared(int queue) {
    static char block[65536];
    long stored = 0;
    int last = 0;
    uint32_t id = 0;
    if (queue) proxy_register_shared_queue(S("flood"), &id);
    for (int i = 0; i < 100000; i++) {
        char key[24];
        snprintf(key, sizeof key, "k%d", i);
        last = queue ? proxy_enqueue_shared_queue(id, block, sizeof block)
                     : proxy_set_shared_data(key, strlen(key), block, sizeof block, 0);
        if (last != 0) break;
        stored++;
    }
    report_int(MAP_REQUEST_HEADERS, "x-flood-stored", stored);
    report_int(MAP_REQUEST_HEADERS, "x-flood-last", last);
}

static void steal(void) {
    long items = 0, enqueued = 0;
    for (uint32_t id = 1; id < 256; id++) {
        char *data = NULL;
        size_t size = 0;
        if (proxy_dequeue_shared_queue(id, &data, &size) == 0 && data) { items++; free(data); }
        if (proxy_enqueue_shared_queue(id, S("planted")) == 0) enqueued++;
    }
    uint32_t id = 0;
    int resolved = proxy_resolve_shared_queue(S("\0plugin:owner"), S("secret"), &id);
    char *value = NULL;
    size_t size = 0;
    uint32_t cas = 0;
    int peek = proxy_get_shared_data(S("token"), &value, &size, &cas);
    report_int(MAP_REQUEST_HEADERS, "x-stolen-items", items);
    report_int(MAP_REQUEST_HEADERS, "x-planted-items", enqueued);
    report_int(MAP_REQUEST_HEADERS, "x-resolve-private", resolved);
    report_int(MAP_REQUEST_HEADERS, "x-peek-token", peek);
}

static void fd_write_amplify(void) {
    static char block[1 << 20];
    static struct { const void *base; size_t len; } iov[1024];
    memset(block, 'A', sizeof block);
    for (int i = 0; i < 1024; i++) { iov[i].base = block; iov[i].len = sizeof block; }
    size_t written = 0;
    int r = wasi_fd_write(1, iov, 1024, &written);
    report_int(MAP_REQUEST_HEADERS, "x-fdwrite-result", r);
    report_int(MAP_REQUEST_HEADERS, "x-fdwrite-written", (long)written);
}

static void uncompress_bomb(uint32_t context) {
    uint32_t root = root_of(context) % MAX_ROOTS;
    char *out = NULL;
    size_t out_len = 0;
    int r = proxy_call_foreign_function(S("uncompress"), payload[root], payload_len[root], &out, &out_len);
    free(out);
    report_int(MAP_REQUEST_HEADERS, "x-bomb-result", r);
    report_int(MAP_REQUEST_HEADERS, "x-bomb-bytes", (long)out_len);
}

/* Slow imports in a loop: each compress of 1 MiB is real host work; the callback must still end near its budget. */
static void cpu_via_imports(void) {
    static char block[1 << 20];
    for (size_t i = 0; i < sizeof block; i++) block[i] = (char)(i * 2654435761u >> 13);
    for (;;) {
        char *out = NULL;
        size_t n = 0;
        proxy_call_foreign_function(S("compress"), block, sizeof block, &out, &n);
        free(out);
    }
}

static void callout_flood(void) {
    static const char headers[] =
        "\x03\x00\x00\x00"
        "\x07\x00\x00\x00" "\x03\x00\x00\x00"
        "\x05\x00\x00\x00" "\x01\x00\x00\x00"
        "\x0a\x00\x00\x00" "\x07\x00\x00\x00"
        ":method\0" "GET\0" ":path\0" "/\0" ":authority\0" "callout\0";
    long started = 0;
    int last = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t token = 0;
        last = proxy_http_call(S("callout"), headers, sizeof headers - 1, NULL, 0, NULL, 0, 5000, &token);
        if (last != 0) break;
        started++;
    }
    report_int(MAP_REQUEST_HEADERS, "x-calls-started", started);
    report_int(MAP_REQUEST_HEADERS, "x-calls-last", last);
}

EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    if (is(context, "inject_request")) inject_request();
    else if (is(context, "http_call_framing")) { http_call_framing(); return 0; }
    else if (is(context, "header_flood")) grow_headers();
    else if (is(context, "shared_flood")) flood_shared(0);
    else if (is(context, "queue_flood")) flood_shared(1);
    else if (is(context, "steal")) steal();
    else if (is(context, "fd_write")) fd_write_amplify();
    else if (is(context, "bomb")) uncompress_bomb(context);
    else if (is(context, "cpu_imports")) cpu_via_imports();
    else if (is(context, "callout_flood")) callout_flood();
    else if (is(context, "reroute")) proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":path"), S("/admin/secret"));
    else if (is(context, "deny")) {
        proxy_send_local_response(403, S("denied"), S("denied by the admin route's check"), NULL, 0, -1);
        return 1;
    } else if (is(context, "local_reply")) {
        static const char bad[] = "\x01\x00\x00\x00" "\x05\x00\x00\x00" "\x12\x00\x00\x00" "x-bad\0" "1\r\nset-cookie: p=1\0";
        int r = proxy_send_local_response(200, S("bad"), S("body"), bad, sizeof bad - 1, -1);
        int r1xx = proxy_send_local_response(101, S("switch"), S(""), NULL, 0, -1);
        char text[16];
        snprintf(text, sizeof text, "%d,%d", r, r1xx);
        static char hdr[64];
        size_t n = one_pair(hdr, "x-tried", text);
        proxy_send_local_response(200, S("ok"), S("local body"), hdr, n, -1);
        return 1;
    }
    return 0;
}

EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t context, uint32_t size, uint32_t end_of_stream) {
    if (is(context, "body_grow") && end_of_stream) {
        static char block[1 << 20];
        long grown = 0;
        int last = 0;
        for (int i = 0; i < 64; i++) {
            last = proxy_set_buffer_bytes(BUFFER_REQUEST_BODY, 0xFFFFFFFFu, 0, block, sizeof block);
            if (last != 0) break;
            grown++;
        }
        char line[64];
        snprintf(line, sizeof line, "body_grow: %ld MiB added, last status %d", grown, last);
        proxy_log(2, line, strlen(line));
        proxy_set_buffer_bytes(BUFFER_REQUEST_BODY, 0, 0xFFFFFFFFu, S("trimmed"));
    }
    return 0;
}

EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    if (is(context, "inject_response")) {
        int a = proxy_add_header_map_value(MAP_RESPONSE_HEADERS, S("x-evil"), S("a\r\nset-cookie: pwned=1"));
        int b = proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("200\r\nset-cookie: pwned=1"));
        int c = proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("204"));
        int d = proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("304"));
        int e = proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("101"));
        int f = proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("999"));
        char text[32];
        snprintf(text, sizeof text, "%d,%d,%d,%d,%d,%d", a, b, c, d, e, f);
        report(MAP_RESPONSE_HEADERS, "x-inject-results", text);
    } else if (is(context, "status_304")) {
        /* On a bodiless upstream answer a plugin may choose any final status; the gateway frames it. */
        proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("200"));
    }
    return 0;
}

EXPORT(proxy_on_http_call_response) void on_http_call_response(uint32_t root, uint32_t token, uint32_t headers, uint32_t body_size, uint32_t trailers) {
    proxy_continue_stream(0);
}

EXPORT(proxy_on_tick) void on_tick(uint32_t root) {
    /* slow_tick: ten periods on every tick, within the CPU budget: ticks must be skipped, not queued back to back.
       spin_tick: never returns, so only the CPU budget or the wall cap can end it. */
    if (strcmp(modes[root % MAX_ROOTS], "spin_tick") == 0) for (volatile int spin = 1; spin;) {}
    uint64_t start = 0, now = 0;
    proxy_get_current_time_nanoseconds(&start);
    do proxy_get_current_time_nanoseconds(&now); while (now - start < 10000000);
    uint32_t id;
    proxy_define_metric(0, S("ticks"), &id);
    proxy_increment_metric(id, 1);
}

EXPORT(proxy_on_done) uint32_t on_done(uint32_t context) { return 1; }
