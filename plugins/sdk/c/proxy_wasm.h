/*
 * Minimal proxy-wasm declarations for plugins written in C and built with
 * clang --target=wasm32-wasi (no Emscripten, no C++ SDK).
 *
 * Written from the proxy-wasm ABI as the gateway implements it (docs/proxy-wasm.md):
 * the imports of module "env", their enumerations, and the serialized header-map format.
 * A plugin defines the callbacks it needs with PROXY_EXPORT(name) and exports
 * one ABI marker with PROXY_ABI_VERSION_0_2_1 (docs/proxy-wasm.md, 'Loading and VMs'). Strings crossing
 * the ABI are (pointer, length) pairs, never NUL-terminated (docs/proxy-wasm.md, 'Versions' #10).
 */
#ifndef GATEWAY_PROXY_WASM_H
#define GATEWAY_PROXY_WASM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define PROXY_EXPORT(name) __attribute__((export_name(#name)))

/* docs/proxy-wasm.md, 'Versions': header callbacks take (ctx, num_headers, end_of_stream). */
#define PROXY_ABI_VERSION_0_2_1 \
    PROXY_EXPORT(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1(void) {}

/* docs/proxy-wasm.md, 'Buffers': the host allocates the bytes it returns with this export; the
 * plugin frees them. Hosts that prefer `malloc` find it exported too (the
 * build passes -Wl,--export=malloc). */
#define PROXY_ALLOCATOR \
    PROXY_EXPORT(proxy_on_memory_allocate) void *proxy_on_memory_allocate(size_t size) { return malloc(size); }

/* docs/proxy-wasm.md, 'Other imports' */
typedef enum {
    PROXY_OK = 0,
    PROXY_NOT_FOUND = 1,
    PROXY_BAD_ARGUMENT = 2,
    PROXY_SERIALIZATION_FAILURE = 3,
    PROXY_PARSE_FAILURE = 4,
    PROXY_BAD_EXPRESSION = 5,
    PROXY_INVALID_MEMORY_ACCESS = 6,
    PROXY_EMPTY = 7,
    PROXY_CAS_MISMATCH = 8,
    PROXY_RESULT_MISMATCH = 9,
    PROXY_INTERNAL_FAILURE = 10,
    PROXY_BROKEN_CONNECTION = 11,
    PROXY_UNIMPLEMENTED = 12,
} proxy_status_t;

/* docs/proxy-wasm.md, 'Other imports' */
typedef enum {
    PROXY_LOG_TRACE = 0,
    PROXY_LOG_DEBUG = 1,
    PROXY_LOG_INFO = 2,
    PROXY_LOG_WARN = 3,
    PROXY_LOG_ERROR = 4,
    PROXY_LOG_CRITICAL = 5,
} proxy_log_level_t;

/* docs/proxy-wasm.md, 'Stream control' / docs/proxy-wasm.md, 'Stream control': results of header and body callbacks. */
typedef enum {
    PROXY_ACTION_CONTINUE = 0,
    PROXY_ACTION_PAUSE = 1,
    PROXY_HEADERS_STOP_ALL_AND_BUFFER = 3,
    PROXY_HEADERS_STOP_ALL_AND_WATERMARK = 4,
} proxy_action_t;

/* docs/proxy-wasm.md, 'Buffers' (9 and 0x1000 are the extensions, see gateway_ext.h). */
typedef enum {
    PROXY_BUFFER_HTTP_REQUEST_BODY = 0,
    PROXY_BUFFER_HTTP_RESPONSE_BODY = 1,
    PROXY_BUFFER_HTTP_CALL_RESPONSE_BODY = 4,
    PROXY_BUFFER_VM_CONFIGURATION = 6,
    PROXY_BUFFER_PLUGIN_CONFIGURATION = 7,
} proxy_buffer_type_t;

/* docs/proxy-wasm.md, 'Other imports' */
typedef enum {
    PROXY_MAP_REQUEST_HEADERS = 0,
    PROXY_MAP_REQUEST_TRAILERS = 1,
    PROXY_MAP_RESPONSE_HEADERS = 2,
    PROXY_MAP_RESPONSE_TRAILERS = 3,
} proxy_map_type_t;

/* docs/proxy-wasm.md, 'Other imports' */
typedef enum {
    PROXY_STREAM_REQUEST = 0,
    PROXY_STREAM_RESPONSE = 1,
} proxy_stream_type_t;

/* docs/proxy-wasm.md, 'Other imports' */
typedef enum {
    PROXY_METRIC_COUNTER = 0,
    PROXY_METRIC_GAUGE = 1,
    PROXY_METRIC_HISTOGRAM = 2,
} proxy_metric_type_t;

/* docs/proxy-wasm.md, 'Stream control': grpc_status argument meaning "not a gRPC reply". */
#define PROXY_GRPC_STATUS_NONE 0xFFFFFFFFu

/* docs/proxy-wasm.md, 'Other imports' */
PROXY_IMPORT(proxy_log)
proxy_status_t proxy_log(uint32_t level, const char *msg, size_t msg_len);
PROXY_IMPORT(proxy_get_current_time_nanoseconds)
proxy_status_t proxy_get_current_time_nanoseconds(uint64_t *ret_time);
PROXY_IMPORT(proxy_set_tick_period_milliseconds)
proxy_status_t proxy_set_tick_period_milliseconds(uint32_t period_ms);

/* docs/proxy-wasm.md, 'Buffers': data returned by the host is allocated with the exported malloc and
 * owned by the plugin afterwards (docs/proxy-wasm.md, 'Buffers'): free() it. */
PROXY_IMPORT(proxy_get_buffer_bytes)
proxy_status_t proxy_get_buffer_bytes(uint32_t buffer_type, uint32_t start, uint32_t max_size,
                                      char **ret_data, size_t *ret_size);

/* docs/proxy-wasm.md, 'Header maps' */
PROXY_IMPORT(proxy_get_header_map_pairs)
proxy_status_t proxy_get_header_map_pairs(uint32_t map_type, char **ret_data, size_t *ret_size);
PROXY_IMPORT(proxy_get_header_map_value)
proxy_status_t proxy_get_header_map_value(uint32_t map_type, const char *key, size_t key_len,
                                          char **ret_data, size_t *ret_size);
PROXY_IMPORT(proxy_add_header_map_value)
proxy_status_t proxy_add_header_map_value(uint32_t map_type, const char *key, size_t key_len,
                                          const char *value, size_t value_len);
PROXY_IMPORT(proxy_replace_header_map_value)
proxy_status_t proxy_replace_header_map_value(uint32_t map_type, const char *key, size_t key_len,
                                              const char *value, size_t value_len);
PROXY_IMPORT(proxy_remove_header_map_value)
proxy_status_t proxy_remove_header_map_value(uint32_t map_type, const char *key, size_t key_len);

/* docs/proxy-wasm.md, 'Stream control' */
PROXY_IMPORT(proxy_continue_stream)
proxy_status_t proxy_continue_stream(uint32_t stream_type);
PROXY_IMPORT(proxy_send_local_response)
proxy_status_t proxy_send_local_response(uint32_t status_code, const char *details, size_t details_len,
                                         const char *body, size_t body_len,
                                         const char *headers, size_t headers_len, uint32_t grpc_status);

/* docs/proxy-wasm.md, 'Other imports' */
PROXY_IMPORT(proxy_define_metric)
proxy_status_t proxy_define_metric(uint32_t metric_type, const char *name, size_t name_len, uint32_t *ret_id);
PROXY_IMPORT(proxy_increment_metric)
proxy_status_t proxy_increment_metric(uint32_t metric_id, int64_t delta);

/* docs/proxy-wasm.md, 'Other imports': cas = 0 stores unconditionally. */
PROXY_IMPORT(proxy_get_shared_data)
proxy_status_t proxy_get_shared_data(const char *key, size_t key_len, char **ret_value, size_t *ret_size,
                                     uint32_t *ret_cas);
PROXY_IMPORT(proxy_set_shared_data)
proxy_status_t proxy_set_shared_data(const char *key, size_t key_len, const char *value, size_t value_len,
                                     uint32_t cas);

/* docs/proxy-wasm.md, 'Other imports': path segments separated by a single NUL (docs/proxy-wasm.md, 'Other imports'). */
PROXY_IMPORT(proxy_get_property)
proxy_status_t proxy_get_property(const char *path, size_t path_len, char **ret_data, size_t *ret_size);

/* docs/proxy-wasm.md, 'Contexts and callbacks' */
PROXY_IMPORT(proxy_set_effective_context)
proxy_status_t proxy_set_effective_context(uint32_t context_id);

/* ---- small conveniences --------------------------------------------------- */

static inline void proxy_log_str(proxy_log_level_t level, const char *text) {
    proxy_log((uint32_t)level, text, strlen(text));
}

/* Appends one pair to a serialized header map under construction (docs/proxy-wasm.md, 'Header maps'):
 * the caller lays out `count` slots of sizes first, then data. This builder
 * keeps it simple: at most PROXY_PAIRS_MAX pairs, assembled into `out`. */
#define PROXY_PAIRS_MAX 8
typedef struct {
    uint32_t count;
    const char *keys[PROXY_PAIRS_MAX];
    size_t key_lens[PROXY_PAIRS_MAX];
    const char *values[PROXY_PAIRS_MAX];
    size_t value_lens[PROXY_PAIRS_MAX];
} proxy_pairs_t;

static inline void proxy_pairs_add(proxy_pairs_t *pairs, const char *key, const char *value, size_t value_len) {
    if (pairs->count == PROXY_PAIRS_MAX) return;
    uint32_t i = pairs->count++;
    pairs->keys[i] = key;
    pairs->key_lens[i] = strlen(key);
    pairs->values[i] = value;
    pairs->value_lens[i] = value_len;
}

/* Serializes the pairs into a fresh malloc'ed block; the caller frees it. */
static inline char *proxy_pairs_serialize(const proxy_pairs_t *pairs, size_t *out_len) {
    size_t size = 4;
    for (uint32_t i = 0; i < pairs->count; i++) size += 8 + pairs->key_lens[i] + 1 + pairs->value_lens[i] + 1;
    char *out = (char *)malloc(size);
    if (out == NULL) { *out_len = 0; return NULL; }
    memcpy(out, &pairs->count, 4);
    char *sizes = out + 4;
    char *data = sizes + 8 * pairs->count;
    for (uint32_t i = 0; i < pairs->count; i++) {
        uint32_t k = (uint32_t)pairs->key_lens[i], v = (uint32_t)pairs->value_lens[i];
        memcpy(sizes + 8 * i, &k, 4);
        memcpy(sizes + 8 * i + 4, &v, 4);
        memcpy(data, pairs->keys[i], k); data += k; *data++ = 0;
        memcpy(data, pairs->values[i], v); data += v; *data++ = 0;
    }
    *out_len = size;
    return out;
}

#endif
