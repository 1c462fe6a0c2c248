/* Minimal proxy-wasm ABI declarations for the host's C test plugins (ABI 0.2.1). */
#ifndef GATEWAY_TESTDATA_PROXY_WASM_H
#define GATEWAY_TESTDATA_PROXY_WASM_H

#include <stddef.h>
#include <stdint.h>

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

IMPORT(proxy_log) int proxy_log(int level, const char *msg, size_t len);
IMPORT(proxy_get_log_level) int proxy_get_log_level(uint32_t *level);
IMPORT(proxy_get_current_time_nanoseconds) int proxy_get_current_time_nanoseconds(uint64_t *ns);
IMPORT(proxy_set_tick_period_milliseconds) int proxy_set_tick_period_milliseconds(uint32_t ms);
IMPORT(proxy_get_buffer_bytes) int proxy_get_buffer_bytes(int type, uint32_t start, uint32_t max, char **data, size_t *size);
IMPORT(proxy_set_buffer_bytes) int proxy_set_buffer_bytes(int type, uint32_t start, uint32_t size, const char *data, size_t len);
IMPORT(proxy_get_buffer_status) int proxy_get_buffer_status(int type, size_t *len, uint32_t *flags);
IMPORT(proxy_get_header_map_pairs) int proxy_get_header_map_pairs(int type, char **data, size_t *size);
IMPORT(proxy_set_header_map_pairs) int proxy_set_header_map_pairs(int type, const char *data, size_t size);
IMPORT(proxy_get_header_map_value) int proxy_get_header_map_value(int type, const char *key, size_t klen, char **value, size_t *vlen);
IMPORT(proxy_add_header_map_value) int proxy_add_header_map_value(int type, const char *key, size_t klen, const char *value, size_t vlen);
IMPORT(proxy_replace_header_map_value) int proxy_replace_header_map_value(int type, const char *key, size_t klen, const char *value, size_t vlen);
IMPORT(proxy_remove_header_map_value) int proxy_remove_header_map_value(int type, const char *key, size_t klen);
IMPORT(proxy_get_header_map_size) int proxy_get_header_map_size(int type, size_t *size);
IMPORT(proxy_continue_stream) int proxy_continue_stream(int type);
IMPORT(proxy_close_stream) int proxy_close_stream(int type);
IMPORT(proxy_send_local_response) int proxy_send_local_response(uint32_t status, const char *details, size_t dlen,
    const char *body, size_t blen, const char *headers, size_t hlen, int32_t grpc);
IMPORT(proxy_http_call) int proxy_http_call(const char *up, size_t ulen, const char *headers, size_t hlen,
    const char *body, size_t blen, const char *trailers, size_t tlen, uint32_t timeout, uint32_t *token);
IMPORT(proxy_get_status) int proxy_get_status(uint32_t *code, char **msg, size_t *len);
IMPORT(proxy_define_metric) int proxy_define_metric(int type, const char *name, size_t len, uint32_t *id);
IMPORT(proxy_increment_metric) int proxy_increment_metric(uint32_t id, int64_t delta);
IMPORT(proxy_record_metric) int proxy_record_metric(uint32_t id, uint64_t value);
IMPORT(proxy_get_metric) int proxy_get_metric(uint32_t id, uint64_t *value);
IMPORT(proxy_get_shared_data) int proxy_get_shared_data(const char *key, size_t klen, char **value, size_t *vlen, uint32_t *cas);
IMPORT(proxy_set_shared_data) int proxy_set_shared_data(const char *key, size_t klen, const char *value, size_t vlen, uint32_t cas);
IMPORT(proxy_register_shared_queue) int proxy_register_shared_queue(const char *name, size_t len, uint32_t *id);
IMPORT(proxy_resolve_shared_queue) int proxy_resolve_shared_queue(const char *vm, size_t vlen, const char *name, size_t nlen, uint32_t *id);
IMPORT(proxy_enqueue_shared_queue) int proxy_enqueue_shared_queue(uint32_t id, const char *data, size_t len);
IMPORT(proxy_dequeue_shared_queue) int proxy_dequeue_shared_queue(uint32_t id, char **data, size_t *len);
IMPORT(proxy_get_property) int proxy_get_property(const char *path, size_t plen, char **value, size_t *vlen);
IMPORT(proxy_set_property) int proxy_set_property(const char *path, size_t plen, const char *value, size_t vlen);
IMPORT(proxy_set_effective_context) int proxy_set_effective_context(uint32_t id);
IMPORT(proxy_done) int proxy_done(void);
IMPORT(proxy_call_foreign_function) int proxy_call_foreign_function(const char *name, size_t nlen, const char *args, size_t alen, char **ret, size_t *rlen);

/* Higress Redis extension (docs/proxy-wasm.md, 'Calls that wait'). */
IMPORT(proxy_redis_init) int proxy_redis_init(const char *cluster, size_t clen, const char *user, size_t ulen,
    const char *password, size_t plen, uint32_t timeout);
IMPORT(proxy_redis_call) int proxy_redis_call(const char *cluster, size_t clen, const char *query, size_t qlen, uint32_t *token);

/* The gateway's SQL extension (docs/proxy-wasm.md, 'The SQL extension'). */
IMPORT(proxy_sql_call) int proxy_sql_call(const char *target, size_t tlen, const char *statement, size_t slen,
    const char *params, size_t plen, uint32_t timeout, uint32_t *token);

enum { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_CRITICAL };
enum { MAP_REQUEST_HEADERS = 0, MAP_REQUEST_TRAILERS = 1, MAP_RESPONSE_HEADERS = 2, MAP_RESPONSE_TRAILERS = 3,
       MAP_HTTP_CALL_RESPONSE_HEADERS = 6 };
enum { BUFFER_REQUEST_BODY = 0, BUFFER_RESPONSE_BODY = 1, BUFFER_HTTP_CALL_RESPONSE_BODY = 4,
       BUFFER_VM_CONFIGURATION = 6, BUFFER_PLUGIN_CONFIGURATION = 7, BUFFER_REDIS_CALL_RESPONSE = 9, BUFFER_SQL_CALL_RESPONSE = 0x1000 };
enum { ACTION_CONTINUE = 0, ACTION_PAUSE = 1 };

#endif
