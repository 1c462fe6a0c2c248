/*
 * passthrough: the perf harness's "one plugin that does nothing" baseline.
 * It only has the two header callbacks and lets every request and response
 * continue, so its cost is the host's per-stream plugin overhead.
 */
#include "proxy_wasm.h"

PROXY_ABI_VERSION_0_2_1
PROXY_ALLOCATOR

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, uint32_t num_headers, uint32_t end_of_stream) {
    (void)context_id; (void)num_headers; (void)end_of_stream;
    return PROXY_ACTION_CONTINUE;
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, uint32_t num_headers, uint32_t end_of_stream) {
    (void)context_id; (void)num_headers; (void)end_of_stream;
    return PROXY_ACTION_CONTINUE;
}
