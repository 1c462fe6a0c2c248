/*
 * One C test plugin whose behaviour is chosen by the plugin configuration (its first word), so each test can
 * load the same module as differently configured plugins. The behaviours mirror the proxy-wasm Go SDK examples
 * (hello world, headers, body, JSON validation, routing, http call, postponed requests, shared data, shared
 * queue, metrics, properties, configuration) plus adversarial ones (infinite loop, memory bomb, traps, bad
 * pointers, never continuing).
 */
#include "out_of_bounds.h"
#include "proxy_wasm.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONTEXTS 4096
#define S(text) text, sizeof(text) - 1

static char modes[MAX_CONTEXTS][32]; /* by root context id */
static uint32_t parent_of[MAX_CONTEXTS];
static char argument[MAX_CONTEXTS][64];
static uint32_t token_owner[MAX_CONTEXTS]; /* http call token -> stream context */
static uint32_t postponed[64];
static int postponed_count;
static char *volatile bomb_sink;
static uint32_t queue_id, metric_counter, metric_gauge, metric_histogram;

EXPORT(proxy_abi_version_0_2_1) void abi_marker(void) {}
EXPORT(proxy_on_memory_allocate) void *on_memory_allocate(size_t size) { return malloc(size); }

static void logs(int level, const char *text) { proxy_log(level, text, strlen(text)); }

static uint32_t root_of(uint32_t context) {
    uint32_t parent = parent_of[context % MAX_CONTEXTS];
    return parent == 0 ? context : parent;
}

static const char *mode_of(uint32_t context) { return modes[root_of(context) % MAX_CONTEXTS]; }
static const char *arg_of(uint32_t context) { return argument[root_of(context) % MAX_CONTEXTS]; }
static int is(uint32_t context, const char *mode) { return strcmp(mode_of(context), mode) == 0; }

static void add_header(int map, const char *name, const char *value) {
    proxy_add_header_map_value(map, name, strlen(name), value, strlen(value));
}

/* Returns a malloc'ed NUL-terminated copy of a header value, or NULL. */
static char *header(int map, const char *name) {
    char *value = NULL;
    size_t size = 0;
    if (proxy_get_header_map_value(map, name, strlen(name), &value, &size) != 0) return NULL;
    char *copy = malloc(size + 1);
    memcpy(copy, value, size);
    copy[size] = 0;
    free(value);
    return copy;
}

static void local_reply(uint32_t status, const char *body) {
    static const char headers[] = "\x01\x00\x00\x00" "\x07\x00\x00\x00" "\x03\x00\x00\x00" "x-local\0yes";
    proxy_send_local_response(status, S("test reply"), body, strlen(body), headers, sizeof(headers), -1);
}

EXPORT(proxy_on_context_create) void on_context_create(uint32_t id, uint32_t parent) {
    parent_of[id % MAX_CONTEXTS] = parent;
    if (parent != 0 && is(id, "trap_create")) __builtin_trap();
}

EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) {
    char *data = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_VM_CONFIGURATION, 0, size, &data, &length);
    char line[160];
    snprintf(line, sizeof line, "vm configuration: %.*s", (int)length, data ? data : "");
    logs(LOG_INFO, line);
    free(data);
    return 1;
}

EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
    char *data = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, &data, &length);
    char *mode = modes[root % MAX_CONTEXTS];
    size_t i = 0;
    while (i < length && i < 31 && data[i] != ' ') { mode[i] = data[i]; i++; }
    mode[i] = 0;
    if (i < length) snprintf(argument[root % MAX_CONTEXTS], 64, "%.*s", (int)(length - i - 1), data + i + 1);
    char line[160];
    snprintf(line, sizeof line, "plugin configuration: %.*s", (int)length, data ? data : "");
    logs(LOG_INFO, line);
    free(data);
    if (strcmp(mode, "reject") == 0) return 0;
    if (strcmp(mode, "trap_configure") == 0) __builtin_trap();
    if (strcmp(mode, "postpone") == 0 || strcmp(mode, "trap_tick") == 0) proxy_set_tick_period_milliseconds(5);
    if (strcmp(mode, "tick_while_configuring") == 0) {
        // Ticks fall due while the configuration is still running: the host must hold them until it returns.
        proxy_set_tick_period_milliseconds(1);
        uint64_t start = 0, now = 0;
        proxy_get_current_time_nanoseconds(&start);
        do proxy_get_current_time_nanoseconds(&now); while (now - start < 50000000ull);
    }
    if (strcmp(mode, "consumer") == 0) proxy_register_shared_queue(S("jobs"), &queue_id);
    if (strcmp(mode, "metrics") == 0) {
        proxy_define_metric(0, S("requests"), &metric_counter);
        proxy_define_metric(1, S("last_path_length"), &metric_gauge);
        proxy_define_metric(2, S("path_length"), &metric_histogram);
    }
    return 1;
}

static uint32_t shared_increment(const char *key) {
    for (;;) {
        char *value = NULL;
        size_t size = 0;
        uint32_t cas = 0;
        uint32_t count = 0;
        if (proxy_get_shared_data(key, strlen(key), &value, &size, &cas) == 0 && size == 4) memcpy(&count, value, 4);
        free(value);
        count++;
        if (proxy_set_shared_data(key, strlen(key), (const char *)&count, 4, cas) == 0) return count;
    }
}

static void add_property_header(const char *path, size_t length, const char *name, int integer) {
    char *value = NULL;
    size_t size = 0;
    char text[128];
    if (proxy_get_property(path, length, &value, &size) != 0) {
        snprintf(text, sizeof text, "missing");
    } else if (integer && size == 8) {
        int64_t number;
        memcpy(&number, value, 8);
        snprintf(text, sizeof text, "%lld", (long long)number);
    } else {
        snprintf(text, sizeof text, "%.*s", (int)size, value);
    }
    free(value);
    add_header(MAP_REQUEST_HEADERS, name, text);
}

EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    const char *mode = mode_of(context);
    if (strcmp(mode, "hello") == 0) {
        char *path = header(MAP_REQUEST_HEADERS, ":path");
        char line[160];
        snprintf(line, sizeof line, "hello from %s (%u headers)", path ? path : "?", headers);
        logs(LOG_INFO, line);
        printf("stdout says hi\n");
        fflush(stdout);
        free(path);
    } else if (strcmp(mode, "headers") == 0) {
        add_header(MAP_REQUEST_HEADERS, "x-added", "1");
        proxy_remove_header_map_value(MAP_REQUEST_HEADERS, S("x-remove"));
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S("x-replace"), S("new"));
    } else if (strcmp(mode, "route") == 0 || strcmp(mode, "route_kept") == 0) {
        /* route_kept: the Higress property that keeps the route chosen before the rewrite */
        if (strcmp(mode, "route_kept") == 0) proxy_set_property(S("clear_route_cache"), S("off"));
        char *canary = header(MAP_REQUEST_HEADERS, "x-canary");
        if (canary && strcmp(canary, "1") == 0) {
            char *path = header(MAP_REQUEST_HEADERS, ":path");
            char target[256];
            snprintf(target, sizeof target, "/canary%s", path ? path : "/");
            proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":path"), target, strlen(target));
            proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S(":authority"), S("canary.internal"));
            free(path);
        }
        free(canary);
    } else if (strcmp(mode, "rebuild") == 0) {
        static uint32_t requests_in_this_vm;
        char text[16];
        snprintf(text, sizeof text, "%u", ++requests_in_this_vm);
        add_header(MAP_REQUEST_HEADERS, "x-count", text);
        char *rebuild = header(MAP_REQUEST_HEADERS, "x-rebuild");
        if (rebuild) proxy_set_property(S("wasm_need_rebuild"), S("true"));
        free(rebuild);
    } else if (strcmp(mode, "trap_on_header") == 0) {
        char *trap = header(MAP_REQUEST_HEADERS, "x-trap");
        if (trap) __builtin_trap();
        add_header(MAP_REQUEST_HEADERS, "x-survived", "1");
    } else if (strcmp(mode, "auth") == 0 || strcmp(mode, "auth_patient") == 0 || strcmp(mode, "trap_call") == 0) {
        /* auth_patient: the same callout with a 5 s timeout, for upstreams (TLS) whose first answer a loaded machine delays. */
        uint32_t timeout_ms = strcmp(mode, "auth_patient") == 0 ? 5000 : 200;
        static const char call_headers[] =
            "\x04\x00\x00\x00"
            "\x07\x00\x00\x00" "\x03\x00\x00\x00"
            "\x05\x00\x00\x00" "\x05\x00\x00\x00"
            "\x0a\x00\x00\x00" "\x04\x00\x00\x00"
            "\x06\x00\x00\x00" "\x02\x00\x00\x00"
            ":method\0GET\0" ":path\0/auth\0" ":authority\0auth\0" "x-user\0me";
        uint32_t token = 0;
        int status = proxy_http_call(arg_of(context), strlen(arg_of(context)), call_headers, sizeof call_headers,
                                     S("ping"), NULL, 0, timeout_ms, &token);
        if (status != 0) {
            local_reply(500, "dispatch failed");
            return ACTION_PAUSE;
        }
        token_owner[token % MAX_CONTEXTS] = context;
        return ACTION_PAUSE;
    } else if (strcmp(mode, "redis") == 0) {
        static const char incr[] = "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n";
        const char *cluster = arg_of(context);
        uint32_t token = 0;
        if (proxy_redis_init(cluster, strlen(cluster), S("user"), S("ignored"), 500) != 0
            || proxy_redis_call(cluster, strlen(cluster), incr, sizeof incr - 1, &token) != 0) {
            add_header(MAP_REQUEST_HEADERS, "x-redis", "dispatch failed");
            return ACTION_CONTINUE; /* fail open, as the Higress rate limiters do */
        }
        token_owner[token % MAX_CONTEXTS] = context;
        return ACTION_PAUSE;
    } else if (strcmp(mode, "redis_raw") == 0) {
        /* The RESP query comes from the x-resp header with '~' for CRLF, so tests can send hostile bytes. */
        char *query = header(MAP_REQUEST_HEADERS, "x-resp");
        const char *cluster = arg_of(context);
        uint32_t token = 0;
        if (!query) {
            add_header(MAP_REQUEST_HEADERS, "x-redis", "no x-resp");
            return ACTION_CONTINUE;
        }
        size_t length = 0;
        for (const char *c = query; *c; c++) length += *c == '~' ? 2 : 1;
        char *resp = malloc(length + 1);
        size_t at = 0;
        for (const char *c = query; *c; c++) {
            if (*c == '~') { resp[at++] = '\r'; resp[at++] = '\n'; }
            else resp[at++] = *c;
        }
        free(query);
        int status = proxy_redis_call(cluster, strlen(cluster), resp, at, &token);
        free(resp);
        if (status != 0) {
            char text[32];
            snprintf(text, sizeof text, "dispatch failed %d", status);
            add_header(MAP_REQUEST_HEADERS, "x-redis", text);
            return ACTION_CONTINUE;
        }
        token_owner[token % MAX_CONTEXTS] = context;
        return ACTION_PAUSE;
    } else if (strcmp(mode, "sql") == 0) {
        /* Parameters ("<x-key header>"): u32 count, TEXT tag, u32 length, bytes (docs/proxy-wasm.md, 'The SQL extension'). */
        char *key = header(MAP_REQUEST_HEADERS, "x-key");
        char params[80];
        uint32_t count = 1, length = key ? strlen(key) : 0;
        if (length > 64) length = 64;
        memcpy(params, &count, 4);
        params[4] = 0x04;
        memcpy(params + 5, &length, 4);
        memcpy(params + 9, key ? key : "", length);
        free(key);
        uint32_t token = 0;
        int status = proxy_sql_call(S("accounts"), arg_of(context), strlen(arg_of(context)), params, 9 + length, 0, &token);
        if (status != 0) {
            char text[16];
            snprintf(text, sizeof text, "dispatch %d", status);
            add_header(MAP_REQUEST_HEADERS, "x-sql", text);
            return ACTION_CONTINUE;
        }
        token_owner[token % MAX_CONTEXTS] = context;
        return ACTION_PAUSE;
    } else if (strcmp(mode, "postpone") == 0) {
        postponed[postponed_count++ % 64] = context;
        return ACTION_PAUSE;
    } else if (strcmp(mode, "counter") == 0) {
        char text[16];
        snprintf(text, sizeof text, "%u", shared_increment("hits"));
        add_header(MAP_REQUEST_HEADERS, "x-hits", text);
    } else if (strcmp(mode, "producer") == 0) {
        uint32_t id = 0;
        if (proxy_resolve_shared_queue(S(""), S("jobs"), &id) != 0) {
            local_reply(503, "no queue");
            return ACTION_PAUSE;
        }
        char *path = header(MAP_REQUEST_HEADERS, ":path");
        proxy_enqueue_shared_queue(id, path, strlen(path));
        free(path);
    } else if (strcmp(mode, "metrics") == 0) {
        char *path = header(MAP_REQUEST_HEADERS, ":path");
        proxy_increment_metric(metric_counter, 1);
        proxy_record_metric(metric_gauge, strlen(path));
        proxy_record_metric(metric_histogram, strlen(path));
        uint64_t value = 0;
        proxy_get_metric(metric_counter, &value);
        char text[24];
        snprintf(text, sizeof text, "%llu", (unsigned long long)value);
        add_header(MAP_REQUEST_HEADERS, "x-requests", text);
        free(path);
    } else if (strcmp(mode, "properties") == 0) {
        add_property_header(S("plugin_name"), "x-plugin-name", 0);
        add_property_header(S("plugin_vm_id"), "x-vm-id", 0);
        add_property_header(S("route_name"), "x-route-name", 0);
        add_property_header(S("cluster_name"), "x-cluster-name", 0);
        add_property_header(S("source\0address"), "x-source", 0);
        add_property_header(S("source\0port"), "x-source-port", 1);
        add_property_header(S("destination\0address"), "x-destination", 0);
        add_property_header(S("request\0path"), "x-request-path", 0);
        add_property_header(S("request\0method"), "x-request-method", 0);
        add_property_header(S("request\0id"), "x-request-id-prop", 0);
        add_property_header(S("request\0headers\0user-agent"), "x-ua", 0);
        proxy_set_property(S("my\0key\0"), S("stored"));
        add_property_header(S("my\0key"), "x-bag", 0);
    } else if (strcmp(mode, "tls") == 0) {
        /* Envoy's connection properties of the client connection; mtls is one byte, 0 or 1. */
        add_property_header(S("connection\0tls_version"), "x-tls-version", 0);
        add_property_header(S("connection\0requested_server_name"), "x-tls-sni", 0);
        add_property_header(S("connection\0subject_peer_certificate"), "x-tls-peer", 0);
        char *mtls = NULL;
        size_t mtls_size = 0;
        if (proxy_get_property(S("connection\0mtls"), &mtls, &mtls_size) == 0 && mtls_size == 1) {
            add_header(MAP_REQUEST_HEADERS, "x-tls-mtls", mtls[0] ? "true" : "false");
        }
        free(mtls);
    } else if (strcmp(mode, "local") == 0) {
        local_reply(401, "go away");
        return ACTION_CONTINUE;
    } else if (strcmp(mode, "twice") == 0) {
        local_reply(401, "first");
        uint32_t second = proxy_send_local_response(402, S(""), S("second"), NULL, 0, -1);
        char text[8];
        snprintf(text, sizeof text, "%u", second);
        proxy_set_property(S("second_status"), text, strlen(text));
    } else if (strcmp(mode, "close") == 0) {
        proxy_close_stream(0);
    } else if (strcmp(mode, "oob") == 0) {
        char list[256];
        out_of_bounds(list, sizeof list);
        add_header(MAP_REQUEST_HEADERS, "x-oob", list);
    } else if (strcmp(mode, "loop") == 0) {
        for (volatile int i = 0;; i++) {}
    } else if (strcmp(mode, "bomb") == 0) {
        for (;;) {
            char *block = malloc(1 << 20);
            if (!block) __builtin_trap();
            memset(block, 1, 1 << 20);
            bomb_sink = block; /* keeps the compiler from eliding the allocation */
        }
    } else if (strcmp(mode, "trap_headers") == 0) {
        __builtin_trap();
    } else if (strcmp(mode, "never") == 0) {
        return ACTION_PAUSE;
    }
    return ACTION_CONTINUE;
}

EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t context, uint32_t size, uint32_t end_of_stream) {
    if (is(context, "trap_body")) __builtin_trap();
    if (is(context, "never_body")) return ACTION_PAUSE;
    if (!is(context, "body") && !is(context, "json")) return ACTION_CONTINUE;
    if (!end_of_stream) return ACTION_PAUSE; /* hold until the whole body is here */
    char *body = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_REQUEST_BODY, 0, 0xFFFFFFFFu, &body, &length);
    int json = length >= 2 && body[0] == '{' && body[length - 1] == '}';
    if (is(context, "json")) {
        free(body);
        if (!json) {
            local_reply(400, "invalid json");
            return ACTION_PAUSE;
        }
        return ACTION_CONTINUE;
    }
    proxy_set_buffer_bytes(BUFFER_REQUEST_BODY, 0, 0, S("rewritten:")); /* prepend */
    proxy_set_buffer_bytes(BUFFER_REQUEST_BODY, 0xFFFFFFFu, 0, S(":end")); /* append */
    free(body);
    return ACTION_CONTINUE;
}

EXPORT(proxy_on_request_trailers) uint32_t on_request_trailers(uint32_t context, uint32_t count) {
    if (is(context, "trap_trailers")) __builtin_trap();
    return ACTION_CONTINUE;
}

EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    if (is(context, "trap_response")) __builtin_trap();
    if (is(context, "never_response")) return ACTION_PAUSE;
    if (is(context, "headers")) {
        add_header(MAP_RESPONSE_HEADERS, "x-response", "yes");
        proxy_replace_header_map_value(MAP_RESPONSE_HEADERS, S(":status"), S("201"));
    }
    return ACTION_CONTINUE;
}

EXPORT(proxy_on_response_body) uint32_t on_response_body(uint32_t context, uint32_t size, uint32_t end_of_stream) {
    if (is(context, "trap_response_body")) __builtin_trap();
    if (!is(context, "body")) return ACTION_CONTINUE;
    if (!end_of_stream) return ACTION_PAUSE;
    proxy_set_buffer_bytes(BUFFER_RESPONSE_BODY, 0, 0xFFFFFFFu, S("replaced response"));
    return ACTION_CONTINUE;
}

EXPORT(proxy_on_http_call_response) void on_http_call_response(uint32_t root, uint32_t token, uint32_t headers, uint32_t body_size, uint32_t trailers) {
    uint32_t stream = token_owner[token % MAX_CONTEXTS];
    if (is(root, "trap_call")) __builtin_trap();
    if (proxy_set_effective_context(stream) != 0) return;
    if (headers == 0) {
        uint32_t code = 0;
        char *message = NULL;
        size_t length = 0;
        proxy_get_status(&code, &message, &length);
        free(message);
        local_reply(503, code == 11 ? "callout reset" : "callout failed");
        return;
    }
    char *status = header(MAP_HTTP_CALL_RESPONSE_HEADERS, ":status");
    char *body = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_HTTP_CALL_RESPONSE_BODY, 0, body_size, &body, &length);
    if (status && strcmp(status, "200") == 0) {
        char text[64];
        snprintf(text, sizeof text, "%.*s", (int)length, body ? body : "");
        add_header(MAP_REQUEST_HEADERS, "x-auth", text);
        proxy_continue_stream(0);
    } else {
        local_reply(403, "denied");
    }
    free(status);
    free(body);
}

EXPORT(proxy_on_redis_call_response) void on_redis_call_response(uint32_t root, uint32_t token, uint32_t status, uint32_t size) {
    if (proxy_set_effective_context(token_owner[token % MAX_CONTEXTS]) != 0) return;
    char *reply = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_REDIS_CALL_RESPONSE, 0, size, &reply, &length);
    char text[96];
    snprintf(text, sizeof text, "%u:%.*s", status, (int)(length > 2 ? length - 2 : 0), reply ? reply : "");
    /* A multi-line reply (bulk string, array) goes into one header: CR and LF become '~'. */
    for (char *c = text; *c; c++) if (*c == '\r' || *c == '\n') *c = '~';
    add_header(MAP_REQUEST_HEADERS, "x-redis", text);
    free(reply);
    proxy_continue_stream(0);
}

/* Reads a one-column result set (docs/proxy-wasm.md, 'The SQL extension') and reports status, rows and the first TEXT cell. */
EXPORT(proxy_on_sql_call_response) void on_sql_call_response(uint32_t root, uint32_t token, uint32_t status, uint32_t rows, uint32_t size) {
    if (proxy_set_effective_context(token_owner[token % MAX_CONTEXTS]) != 0) return;
    char *body = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_SQL_CALL_RESPONSE, 0, size, &body, &length);
    char cell[64] = "";
    if (status == 0 && rows > 0 && length > 24) {
        uint32_t columns, name_length, text_length;
        memcpy(&columns, body + 16, 4);
        size_t at = 24;
        for (uint32_t c = 0; c < columns && at + 4 <= length; c++) {
            memcpy(&name_length, body + at, 4);
            at += 4 + name_length + 1;
        }
        if (at + 5 <= length && body[at] == 0x04) {
            memcpy(&text_length, body + at + 1, 4);
            snprintf(cell, sizeof cell, "%.*s", (int)text_length, body + at + 5);
        }
    }
    char text[128];
    snprintf(text, sizeof text, "%u:%u:%s", status, rows, cell);
    add_header(MAP_REQUEST_HEADERS, "x-sql", text);
    free(body);
    proxy_continue_stream(0);
}

EXPORT(proxy_on_tick) void on_tick(uint32_t root) {
    if (is(root, "trap_tick")) __builtin_trap();
    for (int i = 0; i < postponed_count && i < 64; i++) {
        if (proxy_set_effective_context(postponed[i]) == 0) {
            add_header(MAP_REQUEST_HEADERS, "x-postponed", "1");
            proxy_continue_stream(0);
        }
    }
    postponed_count = 0;
}

EXPORT(proxy_on_queue_ready) void on_queue_ready(uint32_t root, uint32_t id) {
    char *item = NULL;
    size_t length = 0;
    while (proxy_dequeue_shared_queue(id, &item, &length) == 0) {
        proxy_set_shared_data(S("last_job"), item, length, 0);
        shared_increment("jobs_seen");
        free(item);
        item = NULL;
    }
}

EXPORT(proxy_on_log) void on_log(uint32_t context) {
    if (is(context, "trap_log")) __builtin_trap();
    if (is(context, "hello")) logs(LOG_INFO, "request logged");
}

EXPORT(proxy_on_done) uint32_t on_done(uint32_t context) { return 1; }

EXPORT(proxy_on_delete) void on_delete(uint32_t context) {
    if (is(context, "trap_delete") && parent_of[context % MAX_CONTEXTS] != 0) __builtin_trap();
    parent_of[context % MAX_CONTEXTS] = 0;
}
