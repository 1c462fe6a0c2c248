/*
 * A Higress-style (ABI 0.2.100) plugin that decides on the whole body: its header callbacks return 1, which for
 * this ABI is StopIteration (headers held, body callbacks keep coming, docs/proxy-wasm.md, 'Stream control'); its body callbacks
 * return 1 (keep accumulating) until the end of the stream, then record the body size in a header and return 0,
 * which releases the held headers with the body. Without a body, the 1 waits for proxy_continue_stream, which the
 * tick sends. With the plugin configuration "response", the response direction does the same. With "early", the
 * request body callbacks return 0 from the first one on, which records its size in x-first-body-bytes: the headers
 * are released with the first chunk and the rest of the body streams. A message with trailers never reaches the end of
 * the stream in a body callback (Envoy ends it with the trailers): the trailer callback records the size of the body
 * it buffered in x-trailer-body-bytes and returns 0, which releases the held headers with that body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proxy_wasm.h"

#define MAX_WAITING 64

static uint32_t waiting[MAX_WAITING];
static int waiting_count;
static int hold_responses;
static int release_early;

EXPORT(proxy_abi_version_0_2_100) void abi_marker(void) {}
EXPORT(proxy_on_memory_allocate) void *on_memory_allocate(size_t size) { return malloc(size); }

static void add_header(int map, const char *name, const char *value) {
    proxy_add_header_map_value(map, name, strlen(name), value, strlen(value));
}

EXPORT(proxy_on_context_create) void on_context_create(uint32_t id, uint32_t parent) {}

EXPORT(proxy_on_vm_start) uint32_t on_vm_start(uint32_t root, uint32_t size) { return 1; }

EXPORT(proxy_on_configure) uint32_t on_configure(uint32_t root, uint32_t size) {
    char *data = NULL;
    size_t length = 0;
    proxy_get_buffer_bytes(BUFFER_PLUGIN_CONFIGURATION, 0, size, &data, &length);
    hold_responses = length == 8 && memcmp(data, "response", 8) == 0;
    release_early = length == 5 && memcmp(data, "early", 5) == 0;
    free(data);
    proxy_set_tick_period_milliseconds(5);
    return 1;
}

EXPORT(proxy_on_request_headers) uint32_t on_request_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    if (end_of_stream && waiting_count < MAX_WAITING) waiting[waiting_count++] = context;
    return 1;
}

static uint32_t on_body(int map, uint32_t size, uint32_t end_of_stream) {
    if (!end_of_stream) return 1;
    char value[24];
    snprintf(value, sizeof value, "%u", size);
    add_header(map, "x-body-bytes", value);
    return 0;
}

EXPORT(proxy_on_request_body) uint32_t on_request_body(uint32_t context, uint32_t size, uint32_t end_of_stream) {
    if (release_early) {
        char *seen = NULL;
        size_t seen_length = 0;
        if (proxy_get_header_map_value(MAP_REQUEST_HEADERS, "x-first-body-bytes", 18, &seen, &seen_length) == 0) {
            free(seen);
        } else {
            char value[24];
            snprintf(value, sizeof value, "%u", size);
            add_header(MAP_REQUEST_HEADERS, "x-first-body-bytes", value);
        }
        return 0;
    }
    return on_body(MAP_REQUEST_HEADERS, size, end_of_stream);
}

EXPORT(proxy_on_response_headers) uint32_t on_response_headers(uint32_t context, uint32_t headers, uint32_t end_of_stream) {
    return hold_responses && !end_of_stream ? 1 : 0;
}

EXPORT(proxy_on_response_body) uint32_t on_response_body(uint32_t context, uint32_t size, uint32_t end_of_stream) {
    return hold_responses ? on_body(MAP_RESPONSE_HEADERS, size, end_of_stream) : 0;
}

static uint32_t on_trailers(int map, int buffer) {
    size_t length = 0;
    uint32_t flags = 0;
    char value[24];
    proxy_get_buffer_status(buffer, &length, &flags);
    snprintf(value, sizeof value, "%zu", length);
    add_header(map, "x-trailer-body-bytes", value);
    return 0;
}

EXPORT(proxy_on_request_trailers) uint32_t on_request_trailers(uint32_t context, uint32_t trailers) {
    return release_early ? 0 : on_trailers(MAP_REQUEST_HEADERS, BUFFER_REQUEST_BODY);
}

EXPORT(proxy_on_response_trailers) uint32_t on_response_trailers(uint32_t context, uint32_t trailers) {
    return hold_responses ? on_trailers(MAP_RESPONSE_HEADERS, BUFFER_RESPONSE_BODY) : 0;
}

EXPORT(proxy_on_tick) void on_tick(uint32_t root) {
    for (int i = 0; i < waiting_count; i++) {
        if (proxy_set_effective_context(waiting[i]) == 0) {
            add_header(MAP_REQUEST_HEADERS, "x-resumed", "tick");
            proxy_continue_stream(0);
        }
    }
    waiting_count = 0;
}

EXPORT(proxy_on_done) uint32_t on_done(uint32_t context) { return 1; }
EXPORT(proxy_on_delete) void on_delete(uint32_t context) {}
