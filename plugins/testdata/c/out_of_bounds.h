/* behaviors.c's "oob" mode: every import that takes a pointer, called with one far outside memory. */
#ifndef TESTDATA_OUT_OF_BOUNDS_H
#define TESTDATA_OUT_OF_BOUNDS_H

#include <stdio.h>
#include <string.h>

#include "proxy_wasm.h"

#ifndef S
#define S(text) text, sizeof(text) - 1
#endif

/* Writes each import's answer, comma-separated, into list; each must answer 6 (invalid memory access). */
static void out_of_bounds(char *list, size_t capacity) {
    char *bad = (char *)0xFFFFFF00u;
    char **bad_out = (char **)0xFFFFFF00u;
    size_t *bad_size = (size_t *)0xFFFFFF00u;
    uint32_t *bad_u32 = (uint32_t *)0xFFFFFF00u;
    char *p; size_t n; uint32_t u;
    int results[] = {
        proxy_log(LOG_INFO, bad, 64),
        proxy_get_header_map_value(MAP_REQUEST_HEADERS, bad, 8, &p, &n),
        proxy_get_header_map_value(MAP_REQUEST_HEADERS, S(":path"), bad_out, bad_size),
        proxy_add_header_map_value(MAP_REQUEST_HEADERS, bad, 4, S("v")),
        proxy_replace_header_map_value(MAP_REQUEST_HEADERS, S("k"), bad, 4),
        proxy_remove_header_map_value(MAP_REQUEST_HEADERS, bad, 300),
        proxy_get_header_map_pairs(MAP_REQUEST_HEADERS, bad_out, &n),
        proxy_set_header_map_pairs(MAP_REQUEST_HEADERS, bad, 64),
        proxy_get_buffer_bytes(BUFFER_VM_CONFIGURATION, 0, 100, bad_out, bad_size),
        proxy_get_property(bad, 10, &p, &n),
        proxy_set_property(S("k"), bad, 10),
        proxy_get_shared_data(bad, 3, &p, &n, &u),
        proxy_set_shared_data(S("k"), bad, 1000, 0),
        proxy_register_shared_queue(S("oob"), bad_u32),
        proxy_resolve_shared_queue(bad, 4, S("x"), &u),
        proxy_define_metric(0, bad, 4, &u),
        proxy_get_current_time_nanoseconds((uint64_t *)bad),
        proxy_send_local_response(500, bad, 4, S(""), NULL, 0, -1),
        proxy_http_call(bad, 4, NULL, 0, NULL, 0, NULL, 0, 100, &u),
        proxy_call_foreign_function(bad, 8, NULL, 0, &p, &n),
        proxy_get_header_map_value(MAP_REQUEST_HEADERS, S(":path"), &p, (size_t *)0x7FFFFFF0u),
        proxy_get_status(bad_u32, &p, &n),
        proxy_get_log_level(bad_u32),
        proxy_get_metric(0, (uint64_t *)bad),
    };
    list[0] = 0;
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
        char item[8];
        snprintf(item, sizeof item, i ? ",%d" : "%d", results[i]);
        strncat(list, item, capacity - strlen(list) - 1);
    }
}

#endif
