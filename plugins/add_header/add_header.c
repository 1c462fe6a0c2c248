/*
 * add_header: the perf harness's header-mutating plugin. Adds
 * `x-gateway-request: add_header` to every request before it goes upstream and
 * `x-gateway-response: add_header` to every response before it goes to the
 * client, each with one proxy_add_header_map_value call (docs/proxy-wasm.md, 'Header maps').
 */
#include "proxy_wasm.h"

PROXY_ABI_VERSION_0_2_1
PROXY_ALLOCATOR

static const char request_name[] = "x-gateway-request";
static const char response_name[] = "x-gateway-response";
static const char value[] = "add_header";

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, uint32_t num_headers, uint32_t end_of_stream) {
    (void)context_id; (void)num_headers; (void)end_of_stream;
    proxy_add_header_map_value(PROXY_MAP_REQUEST_HEADERS, request_name, sizeof request_name - 1,
                               value, sizeof value - 1);
    return PROXY_ACTION_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, uint32_t num_headers, uint32_t end_of_stream) {
    (void)context_id; (void)num_headers; (void)end_of_stream;
    proxy_add_header_map_value(PROXY_MAP_RESPONSE_HEADERS, response_name, sizeof response_name - 1,
                               value, sizeof value - 1);
    return PROXY_ACTION_CONTINUE;
}
