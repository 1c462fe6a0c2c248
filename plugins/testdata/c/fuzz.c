/*
 * The randomized hostile plugin: every request runs a batch of calls to every import the host offers (proxy-wasm,
 * Higress extras, WASI), with random pointers (null, inside a scratch block, at the end of memory, past it, random),
 * random lengths and random enum values. The count of calls made is kept in the counter metric "calls", so the test
 * reads how many the gateway survived even across VM restarts. Configuration: "<calls per request> <seed>".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ENV(name) __attribute__((import_module("env"), import_name(#name)))
#define WASI(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))
typedef int32_t i;
typedef int64_t I;

ENV(proxy_log) i f_log(i, i, i);
ENV(proxy_get_log_level) i f_get_log_level(i);
ENV(proxy_get_current_time_nanoseconds) i f_time(i);
ENV(proxy_set_tick_period_milliseconds) i f_tick(i);
ENV(proxy_get_buffer_bytes) i f_get_buffer(i, i, i, i, i);
ENV(proxy_set_buffer_bytes) i f_set_buffer(i, i, i, i, i);
ENV(proxy_get_buffer_status) i f_buffer_status(i, i, i);
ENV(proxy_get_configuration) i f_get_configuration(i, i);
ENV(proxy_get_header_map_pairs) i f_get_pairs(i, i, i);
ENV(proxy_set_header_map_pairs) i f_set_pairs(i, i, i);
ENV(proxy_get_header_map_value) i f_get_value(i, i, i, i, i);
ENV(proxy_add_header_map_value) i f_add_value(i, i, i, i, i);
ENV(proxy_replace_header_map_value) i f_replace_value(i, i, i, i, i);
ENV(proxy_remove_header_map_value) i f_remove_value(i, i, i);
ENV(proxy_get_header_map_size) i f_map_size(i, i);
ENV(proxy_continue_stream) i f_continue_stream(i);
ENV(proxy_close_stream) i f_close_stream(i);
ENV(proxy_continue_request) i f_continue_request(void);
ENV(proxy_continue_response) i f_continue_response(void);
ENV(proxy_clear_route_cache) i f_clear_route_cache(void);
ENV(proxy_send_local_response) i f_local_response(i, i, i, i, i, i, i, i);
ENV(proxy_http_call) i f_http_call(i, i, i, i, i, i, i, i, i, i);
ENV(proxy_get_status) i f_get_status(i, i, i);
ENV(proxy_grpc_call) i f_grpc_call(i, i, i, i, i, i, i, i, i, i, i, i);
ENV(proxy_grpc_stream) i f_grpc_stream(i, i, i, i, i, i, i, i, i);
ENV(proxy_grpc_send) i f_grpc_send(i, i, i, i);
ENV(proxy_grpc_cancel) i f_grpc_cancel(i);
ENV(proxy_grpc_close) i f_grpc_close(i);
ENV(proxy_define_metric) i f_define_metric(i, i, i, i);
ENV(proxy_increment_metric) i f_increment_metric(i, I);
ENV(proxy_record_metric) i f_record_metric(i, I);
ENV(proxy_get_metric) i f_get_metric(i, i);
ENV(proxy_get_shared_data) i f_get_shared(i, i, i, i, i);
ENV(proxy_set_shared_data) i f_set_shared(i, i, i, i, i);
ENV(proxy_register_shared_queue) i f_register_queue(i, i, i);
ENV(proxy_resolve_shared_queue) i f_resolve_queue(i, i, i, i, i);
ENV(proxy_enqueue_shared_queue) i f_enqueue(i, i, i);
ENV(proxy_dequeue_shared_queue) i f_dequeue(i, i, i);
ENV(proxy_get_property) i f_get_property(i, i, i, i);
ENV(proxy_set_property) i f_set_property(i, i, i, i);
ENV(proxy_set_effective_context) i f_effective(i);
ENV(proxy_done) i f_done(void);
ENV(proxy_call_foreign_function) i f_foreign(i, i, i, i, i, i);
ENV(proxy_redis_init) i f_redis_init(i, i, i, i, i, i, i);
ENV(proxy_redis_call) i f_redis_call(i, i, i, i, i);
ENV(proxy_sql_call) i f_sql_call(i, i, i, i, i, i, i, i);
ENV(proxy_inject_encoded_data_to_filter_chain) i f_inject(i, i, i);
ENV(proxy_get_upstream_hosts) i f_upstream_hosts(i, i);
ENV(proxy_set_upstream_override_host) i f_override_host(i, i);
WASI(fd_write) i w_fd_write(i, i, i, i);
WASI(fd_read) i w_fd_read(i, i, i, i);
WASI(fd_seek) i w_fd_seek(i, I, i, i);
WASI(fd_close) i w_fd_close(i);
WASI(fd_fdstat_get) i w_fdstat(i, i);
WASI(fd_prestat_get) i w_prestat(i, i);
WASI(environ_sizes_get) i w_environ_sizes(i, i);
WASI(environ_get) i w_environ(i, i);
WASI(args_sizes_get) i w_args_sizes(i, i);
WASI(clock_time_get) i w_clock(i, I, i);
WASI(random_get) i w_random(i, i);
WASI(poll_oneoff) i w_poll(i, i, i, i);
WASI(path_open) i w_path_open(i, i, i, i, i, I, I, i, i);

#define IMPORTS 62

static uint64_t state = 88172645463325252ull;
static uint32_t per_request = 500;
static uint32_t calls_metric;
/* Pointers land in the first half; a write of a random length (< 8 KiB) from there stays inside the block. */
#define REACH 8192
static char scratch[2 * REACH];
static uint32_t reserved_end; /* end of two pages grown at start and never used by malloc: "end of memory" targets */

EXPORT(proxy_abi_version_0_2_1) void abi_marker(void) {}
EXPORT(proxy_on_memory_allocate) void *on_memory_allocate(size_t size) { return malloc(size); }

static uint32_t next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)state;
}

/*
 * A pointer: null, inside the scratch block, at the very end of the reserved pages, just past the end of memory, far
 * out, or anything. Writes the host makes through random pointers can corrupt the guest's own heap and make it
 * trap: that is the guest's business, the host must only never write outside the guest.
 */
static i ptr(void) {
    uint32_t end = (uint32_t)__builtin_wasm_memory_size(0) * 65536u;
    switch (next() % 8) {
    case 0: return 0;
    case 1: case 2: case 3: return (i)(uintptr_t)(scratch + next() % REACH);
    case 4: return (i)(reserved_end - next() % 16);
    case 5: return (i)(end + next() % 16);
    case 6: return (i)0xFFFFFFF0u;
    default: return (i)next();
    }
}

static i len(void) {
    switch (next() % 7) {
    case 0: return 0;
    case 1: return 1;
    case 2: return (i)(next() % 64);
    case 3: return (i)(next() % REACH);
    case 4: return 0x7FFFFFFF;
    case 5: return -1;
    default: return (i)next();
    }
}

/* Enum-like values: mostly small, sometimes out of range. */
static i num(void) { return next() % 4 == 0 ? (i)next() : (i)(next() % 12); }

static I wide(void) { return ((I)next() << 32) | next(); }

static void one_call(void) {
    /* Random bytes in the scratch block give pointer-to-pointer arguments random targets too. */
    for (int k = 0; k < 4; k++) ((uint32_t *)scratch)[next() % (REACH / 4)] = next();
    switch (next() % IMPORTS) {
    case 0: f_log(num(), ptr(), len()); break;
    case 1: f_get_log_level(ptr()); break;
    case 2: f_time(ptr()); break;
    case 3: f_tick(num()); break;
    case 4: f_get_buffer(num(), (i)next(), len(), ptr(), ptr()); break;
    case 5: f_set_buffer(num(), (i)next(), len(), ptr(), len() & 0xFFFF); break;
    case 6: f_buffer_status(num(), ptr(), ptr()); break;
    case 7: f_get_configuration(ptr(), ptr()); break;
    case 8: f_get_pairs(num(), ptr(), ptr()); break;
    case 9: f_set_pairs(num(), ptr(), len()); break;
    case 10: f_get_value(num(), ptr(), len(), ptr(), ptr()); break;
    case 11: f_add_value(num(), ptr(), len(), ptr(), len()); break;
    case 12: f_replace_value(num(), ptr(), len(), ptr(), len()); break;
    case 13: f_remove_value(num(), ptr(), len()); break;
    case 14: f_map_size(num(), ptr()); break;
    case 15: f_continue_stream(num()); break;
    case 16: if (next() % 8 == 0) f_close_stream(num()); break;
    case 17: f_continue_request(); break;
    case 18: f_continue_response(); break;
    case 19: f_clear_route_cache(); break;
    case 20: f_local_response((i)(next() % 700), ptr(), len(), ptr(), len(), ptr(), len(), num()); break;
    case 21: f_http_call(ptr(), len(), ptr(), len(), ptr(), len(), ptr(), len(), (i)next(), ptr()); break;
    case 22: f_get_status(ptr(), ptr(), ptr()); break;
    case 23: f_grpc_call(ptr(), len(), ptr(), len(), ptr(), len(), ptr(), len(), ptr(), len(), num(), ptr()); break;
    case 24: f_grpc_stream(ptr(), len(), ptr(), len(), ptr(), len(), ptr(), len(), ptr()); break;
    case 25: f_grpc_send(num(), ptr(), len(), num()); break;
    case 26: f_grpc_cancel(num()); break;
    case 27: f_grpc_close(num()); break;
    case 28: { i id; f_define_metric(num(), ptr(), len(), next() % 2 ? ptr() : (i)(uintptr_t)&id); break; }
    case 29: f_increment_metric((i)next(), wide()); break;
    case 30: f_record_metric((i)next(), wide()); break;
    case 31: f_get_metric((i)next(), ptr()); break;
    case 32: f_get_shared(ptr(), len(), ptr(), ptr(), ptr()); break;
    case 33: f_set_shared(ptr(), len() & 0xFF, ptr(), len() & 0xFFF, (i)next()); break;
    case 34: f_register_queue(ptr(), len(), ptr()); break;
    case 35: f_resolve_queue(ptr(), len(), ptr(), len(), ptr()); break;
    case 36: f_enqueue((i)(next() % 64), ptr(), len() & 0xFFF); break;
    case 37: f_dequeue((i)(next() % 64), ptr(), ptr()); break;
    case 38: f_get_property(ptr(), len(), ptr(), ptr()); break;
    case 39: f_set_property(ptr(), len(), ptr(), len()); break;
    case 40: f_effective((i)(next() % 16)); break;
    case 41: f_done(); break;
    case 42: f_foreign(ptr(), len(), ptr(), len(), ptr(), ptr()); break;
    case 43: f_redis_init(ptr(), len(), ptr(), len(), ptr(), len(), (i)next()); break;
    case 44: f_redis_call(ptr(), len(), ptr(), len(), ptr()); break;
    case 45: f_sql_call(ptr(), len(), ptr(), len(), ptr(), len(), ptr(), num()); break;
    case 46: f_inject(num(), ptr(), len()); break;
    case 47: f_upstream_hosts(ptr(), ptr()); break;
    case 48: f_override_host(ptr(), len()); break;
    case 49: w_fd_write(num(), ptr(), (i)(next() % 2048), ptr()); break;
    case 50: w_fd_read(num(), ptr(), len(), ptr()); break;
    case 51: w_fd_seek(num(), wide(), num(), ptr()); break;
    case 52: w_fd_close(num()); break;
    case 53: w_fdstat(num(), ptr()); break;
    case 54: w_prestat(num(), ptr()); break;
    case 55: w_environ_sizes(ptr(), ptr()); break;
    case 56: w_environ(ptr(), ptr()); break;
    case 57: w_args_sizes(ptr(), ptr()); break;
    case 58: w_clock(num(), wide(), ptr()); break;
    case 59: w_random(ptr(), len()); break;
    case 60: w_poll(ptr(), ptr(), (i)(next() % 8), ptr()); break;
    default: w_path_open(num(), num(), ptr(), len(), num(), wide(), wide(), num(), ptr()); break;
    }
}

static uint32_t parse_u32(const char **p) {
    uint32_t v = 0;
    while (**p == ' ') (*p)++;
    while (**p >= '0' && **p <= '9') v = v * 10 + (uint32_t)(*(*p)++ - '0');
    return v;
}

EXPORT(proxy_on_vm_start) i on_vm_start(i root, i size) { return 1; }

EXPORT(proxy_on_configure) i on_configure(i root, i size) {
    char *data = NULL;
    i length = 0;
    if (f_get_buffer(7, 0, size, (i)(uintptr_t)&data, (i)(uintptr_t)&length) == 0 && data) {
        char text[64] = {0};
        memcpy(text, data, length < 63 ? length : 63);
        const char *p = text;
        per_request = parse_u32(&p);
        state ^= (uint64_t)parse_u32(&p) * 0x9E3779B97F4A7C15ull;
        free(data);
    }
    /* A VM restarted after a trap explores a new sequence: the clock is mixed in with the configured seed. */
    uint64_t now = 0;
    f_time((i)(uintptr_t)&now);
    state ^= now * 0xBF58476D1CE4E5B9ull;
    if (state == 0) state = 1;
    if (reserved_end == 0) reserved_end = ((uint32_t)__builtin_wasm_memory_grow(0, 2) + 2) * 65536u;
    f_define_metric(0, (i)(uintptr_t)"calls", 5, (i)(uintptr_t)&calls_metric);
    return 1;
}

EXPORT(proxy_on_context_create) void on_context_create(i id, i parent) {}

EXPORT(proxy_on_request_headers) i on_request_headers(i context, i headers, i end_of_stream) {
    for (uint32_t n = 0; n < per_request; n++) {
        one_call();
        f_effective(context);
        f_increment_metric((i)calls_metric, 1);
    }
    return 0;
}

EXPORT(proxy_on_response_headers) i on_response_headers(i context, i headers, i end_of_stream) {
    for (uint32_t n = 0; n < per_request / 4; n++) {
        one_call();
        f_effective(context);
        f_increment_metric((i)calls_metric, 1);
    }
    return 0;
}

/* Every callback the host may deliver after a random import: each just returns. */
EXPORT(proxy_on_http_call_response) void on_http_call_response(i root, i token, i headers, i body, i trailers) {}
EXPORT(proxy_on_redis_call_response) void on_redis_call_response(i root, i token, i status, i size) {}
EXPORT(proxy_on_sql_call_response) void on_sql_call_response(i root, i token, i status, i rows, i size) {}
EXPORT(proxy_on_queue_ready) void on_queue_ready(i root, i id) {}
EXPORT(proxy_on_tick) void on_tick(i root) {}
EXPORT(proxy_on_done) i on_done(i context) { return 1; }
