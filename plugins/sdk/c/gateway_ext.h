/*
 * Gateway extensions to proxy-wasm for C plugins: Redis calls (Higress
 * compatible, docs/proxy-wasm.md, 'Calls that wait') and SQL calls (the gateway's own, docs/proxy-wasm.md, 'The SQL extension').
 *
 * Both are asynchronous. The import returns a token at once; the plugin
 * remembers token -> stream context, returns Pause from its phase callback,
 * and later the host calls the exported callback on the ROOT context with the
 * same token (docs/proxy-wasm.md, 'Calls that wait' and 'Contexts and callbacks'). The plugin then calls
 * proxy_set_effective_context(stream) before touching the stream (docs/proxy-wasm.md, 'The SQL extension').
 *
 * Besides the declarations this header has allocation-free encoders and
 * decoders: RESP commands and replies (docs/proxy-wasm.md, 'Calls that wait'), the SQL parameter list and
 * result set (docs/proxy-wasm.md, 'The SQL extension'). All multi-byte integers are little-endian and unaligned.
 */
#ifndef GATEWAY_EXT_H
#define GATEWAY_EXT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy_wasm.h"

/* docs/proxy-wasm.md, 'Buffers': reply buffers, read with proxy_get_buffer_bytes during the callback. */
#define GW_BUFFER_REDIS_CALL_RESPONSE 9u
#define GW_BUFFER_SQL_CALL_RESPONSE 0x1000u

/* docs/proxy-wasm.md, 'Calls that wait': status argument of proxy_on_redis_call_response. */
typedef enum {
    GW_REDIS_OK = 0,            /* a reply arrived (possibly a Redis error reply "-...") */
    GW_REDIS_NETWORK_ERROR = 1, /* no reply: connection failure, reset or timeout */
} gw_redis_status_t;

/* docs/proxy-wasm.md, 'The SQL extension': status argument of proxy_on_sql_call_response. */
typedef enum {
    GW_SQL_OK = 0,
    GW_SQL_TIMEOUT = 1,
    GW_SQL_STATEMENT_NOT_FOUND = 2,
    GW_SQL_BAD_ARGUMENT = 3,
    GW_SQL_BACKEND_ERROR = 4,
    GW_SQL_CIRCUIT_OPEN = 5,
    GW_SQL_RESULT_TOO_LARGE = 6,
} gw_sql_status_t;

/* docs/proxy-wasm.md, 'The SQL extension': value tags of parameters and result cells. */
typedef enum {
    GW_SQL_NULL = 0x00,
    GW_SQL_BOOL = 0x01,
    GW_SQL_INT64 = 0x02,
    GW_SQL_FLOAT64 = 0x03,
    GW_SQL_TEXT = 0x04,
    GW_SQL_BYTES = 0x05,
} gw_sql_tag_t;

/* ---- imports ------------------------------------------------------------- */

/* docs/proxy-wasm.md, 'Calls that wait'. The gateway ignores user and password (credentials live in gateway
 * configuration) and clamps timeout_ms; 0 asks for the target's default. */
PROXY_IMPORT(proxy_redis_init)
proxy_status_t proxy_redis_init(const char *cluster, size_t cluster_len, const char *user, size_t user_len,
                                const char *password, size_t password_len, uint32_t timeout_ms);

/* docs/proxy-wasm.md, 'Calls that wait'. query = exactly one RESP array of bulk strings. */
PROXY_IMPORT(proxy_redis_call)
proxy_status_t proxy_redis_call(const char *cluster, size_t cluster_len, const char *query, size_t query_len,
                                uint32_t *ret_token);

/* docs/proxy-wasm.md, 'The SQL extension'. params: encoded parameter list (or NULL/0 for none); timeout_ms 0 =
 * the statement's default. */
PROXY_IMPORT(proxy_sql_call)
proxy_status_t proxy_sql_call(const char *target, size_t target_len, const char *statement, size_t statement_len,
                              const char *params, size_t params_len, uint32_t timeout_ms, uint32_t *ret_token);

/* ---- callbacks the plugin exports (define them with PROXY_EXPORT) ---------- */

/* docs/proxy-wasm.md, 'Calls that wait': reply readable as GW_BUFFER_REDIS_CALL_RESPONSE, response_size bytes. */
void proxy_on_redis_call_response(uint32_t root_context_id, uint32_t token, uint32_t status,
                                  uint32_t response_size);

/* docs/proxy-wasm.md, 'The SQL extension': mandatory when proxy_sql_call is imported. Result readable as
 * GW_BUFFER_SQL_CALL_RESPONSE, body_size bytes. */
void proxy_on_sql_call_response(uint32_t root_context_id, uint32_t token, uint32_t status, uint32_t num_rows,
                                uint32_t body_size);

/* ---- little-endian helpers ---------------------------------------------- */

static inline void gw_put_u32(char *p, uint32_t v) {
    p[0] = (char)v; p[1] = (char)(v >> 8); p[2] = (char)(v >> 16); p[3] = (char)(v >> 24);
}
static inline uint32_t gw_get_u32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}
static inline uint64_t gw_get_u64(const char *p) {
    return (uint64_t)gw_get_u32(p) | (uint64_t)gw_get_u32(p + 4) << 32;
}

/* ---- RESP command encoder (docs/proxy-wasm.md, 'Calls that wait') ---------------------------------------
 * Usage: gw_resp_writer w; gw_resp_begin(&w, buf, cap, argc); then argc
 * calls of gw_resp_arg / gw_resp_arg_str / gw_resp_arg_u64; w.failed is set
 * when the buffer was too small. w.len is the encoded length. */

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    int failed;
} gw_resp_writer;

static inline void gw_resp_raw(gw_resp_writer *w, const char *data, size_t len) {
    if (w->failed || w->cap - w->len < len) { w->failed = 1; return; }
    memcpy(w->buf + w->len, data, len);
    w->len += len;
}

static inline void gw_resp_decimal(gw_resp_writer *w, uint64_t v) {
    char digits[20];
    size_t n = 0;
    do { digits[sizeof digits - 1 - n++] = (char)('0' + v % 10); v /= 10; } while (v != 0);
    gw_resp_raw(w, digits + sizeof digits - n, n);
}

static inline void gw_resp_begin(gw_resp_writer *w, char *buf, size_t cap, uint32_t argc) {
    w->buf = buf; w->cap = cap; w->len = 0; w->failed = 0;
    gw_resp_raw(w, "*", 1);
    gw_resp_decimal(w, argc);
    gw_resp_raw(w, "\r\n", 2);
}

/* One bulk string: $<len>\r\n<bytes>\r\n */
static inline void gw_resp_arg(gw_resp_writer *w, const char *data, size_t len) {
    gw_resp_raw(w, "$", 1);
    gw_resp_decimal(w, len);
    gw_resp_raw(w, "\r\n", 2);
    gw_resp_raw(w, data, len);
    gw_resp_raw(w, "\r\n", 2);
}

static inline void gw_resp_arg_str(gw_resp_writer *w, const char *text) { gw_resp_arg(w, text, strlen(text)); }

static inline void gw_resp_arg_u64(gw_resp_writer *w, uint64_t v) {
    char digits[20];
    size_t n = 0;
    do { digits[sizeof digits - 1 - n++] = (char)('0' + v % 10); v /= 10; } while (v != 0);
    gw_resp_arg(w, digits + sizeof digits - n, n);
}

/* ---- RESP2 reply reader (docs/proxy-wasm.md, 'Calls that wait') -----------------------------------------
 * Reads one value at a time from a reply buffer. For an array the value
 * carries the element count and the elements follow as the next values. */

typedef enum {
    GW_RESP_SIMPLE = '+',  /* str/len: the text */
    GW_RESP_ERROR = '-',   /* str/len: the error text, e.g. "NOSCRIPT ..." */
    GW_RESP_INTEGER = ':', /* integer */
    GW_RESP_BULK = '$',    /* str/len; integer = -1 for a null bulk string */
    GW_RESP_ARRAY = '*',   /* integer = element count, -1 for a null array */
} gw_resp_type_t;

typedef struct {
    gw_resp_type_t type;
    int64_t integer;
    const char *str;
    size_t len;
} gw_resp_value;

typedef struct {
    const char *data;
    size_t len;
    size_t pos;
} gw_resp_reader;

/* Reads "<digits>\r\n" (optionally negative); returns 0 on malformed input. */
static inline int gw_resp_read_line_integer(gw_resp_reader *r, int64_t *out) {
    int negative = 0;
    int64_t v = 0;
    size_t digits = 0;
    if (r->pos < r->len && r->data[r->pos] == '-') { negative = 1; r->pos++; }
    while (r->pos < r->len && r->data[r->pos] >= '0' && r->data[r->pos] <= '9') {
        v = v * 10 + (r->data[r->pos++] - '0');
        digits++;
    }
    if (digits == 0 || digits > 18 || r->len - r->pos < 2 || r->data[r->pos] != '\r' || r->data[r->pos + 1] != '\n')
        return 0;
    r->pos += 2;
    *out = negative ? -v : v;
    return 1;
}

/* Returns 1 and fills *v, or 0 when the buffer holds no complete valid value. */
static inline int gw_resp_next(gw_resp_reader *r, gw_resp_value *v) {
    if (r->pos >= r->len) return 0;
    char type = r->data[r->pos++];
    v->str = NULL; v->len = 0; v->integer = 0;
    switch (type) {
    case '+':
    case '-': {
        size_t start = r->pos;
        while (r->pos + 1 < r->len && !(r->data[r->pos] == '\r' && r->data[r->pos + 1] == '\n')) r->pos++;
        if (r->pos + 1 >= r->len) return 0;
        v->type = (gw_resp_type_t)type;
        v->str = r->data + start;
        v->len = r->pos - start;
        r->pos += 2;
        return 1;
    }
    case ':':
        v->type = GW_RESP_INTEGER;
        return gw_resp_read_line_integer(r, &v->integer);
    case '*':
        v->type = GW_RESP_ARRAY;
        return gw_resp_read_line_integer(r, &v->integer);
    case '$': {
        v->type = GW_RESP_BULK;
        if (!gw_resp_read_line_integer(r, &v->integer)) return 0;
        if (v->integer < 0) return 1;
        size_t n = (size_t)v->integer;
        if (r->len - r->pos < n + 2) return 0;
        v->str = r->data + r->pos;
        v->len = n;
        r->pos += n + 2;
        return 1;
    }
    default:
        return 0;
    }
}

/* ---- SQL parameter list encoder (docs/proxy-wasm.md, 'The SQL extension') ---------------------------------
 * gw_sql_params p; gw_sql_params_begin(&p, buf, cap); gw_sql_param_*(&p, ...);
 * then p.len bytes of buf are the params blob (p.failed: buffer too small). */

typedef struct {
    char *buf;
    size_t cap;
    size_t len;
    uint32_t count;
    int failed;
} gw_sql_params;

static inline void gw_sql_params_put(gw_sql_params *p, const void *data, size_t len) {
    if (p->failed || p->cap - p->len < len) { p->failed = 1; return; }
    memcpy(p->buf + p->len, data, len);
    p->len += len;
}

static inline void gw_sql_params_tag(gw_sql_params *p, gw_sql_tag_t tag) {
    char t = (char)tag;
    gw_sql_params_put(p, &t, 1);
    if (!p->failed) gw_put_u32(p->buf, ++p->count);
}

static inline void gw_sql_params_begin(gw_sql_params *p, char *buf, size_t cap) {
    p->buf = buf; p->cap = cap; p->len = 0; p->count = 0; p->failed = 0;
    char zero[4] = {0, 0, 0, 0};
    gw_sql_params_put(p, zero, 4);
}

static inline void gw_sql_param_null(gw_sql_params *p) { gw_sql_params_tag(p, GW_SQL_NULL); }

static inline void gw_sql_param_bool(gw_sql_params *p, int value) {
    char b = value ? 1 : 0;
    gw_sql_params_tag(p, GW_SQL_BOOL);
    gw_sql_params_put(p, &b, 1);
}

static inline void gw_sql_param_int64(gw_sql_params *p, int64_t value) {
    char le[8];
    gw_put_u32(le, (uint32_t)(uint64_t)value);
    gw_put_u32(le + 4, (uint32_t)((uint64_t)value >> 32));
    gw_sql_params_tag(p, GW_SQL_INT64);
    gw_sql_params_put(p, le, 8);
}

static inline void gw_sql_param_float64(gw_sql_params *p, double value) {
    uint64_t bits;
    memcpy(&bits, &value, 8);
    char le[8];
    gw_put_u32(le, (uint32_t)bits);
    gw_put_u32(le + 4, (uint32_t)(bits >> 32));
    gw_sql_params_tag(p, GW_SQL_FLOAT64);
    gw_sql_params_put(p, le, 8);
}

static inline void gw_sql_param_sized(gw_sql_params *p, gw_sql_tag_t tag, const char *data, size_t len) {
    char le[4];
    gw_put_u32(le, (uint32_t)len);
    gw_sql_params_tag(p, tag);
    gw_sql_params_put(p, le, 4);
    gw_sql_params_put(p, data, len);
}

static inline void gw_sql_param_text(gw_sql_params *p, const char *utf8, size_t len) {
    gw_sql_param_sized(p, GW_SQL_TEXT, utf8, len);
}

static inline void gw_sql_param_bytes(gw_sql_params *p, const char *data, size_t len) {
    gw_sql_param_sized(p, GW_SQL_BYTES, data, len);
}

/* ---- SQL result set reader (docs/proxy-wasm.md, 'The SQL extension') --------------------------------------
 * gw_sql_result r; if (gw_sql_result_open(&r, buf, len)) { column i name and
 * tag via gw_sql_result_column; then row_count * column_count calls of
 * gw_sql_result_next_cell, row-major }. */

typedef struct {
    gw_sql_tag_t tag;
    int boolean;
    int64_t int64;
    double float64;
    const char *data; /* TEXT / BYTES */
    size_t len;
} gw_sql_value;

typedef struct {
    const char *data;
    size_t len;
    size_t pos;           /* next cell */
    uint32_t flags;       /* bit 0: TRUNCATED */
    uint64_t rows_affected;
    uint32_t column_count;
    uint32_t row_count;
    size_t columns_pos;   /* first column descriptor */
} gw_sql_result;

#define GW_SQL_RESULT_TRUNCATED 1u

/* Skips one column descriptor at *pos; returns 0 when it does not fit. */
static inline int gw_sql_skip_column(const gw_sql_result *r, size_t *pos, const char **name, size_t *name_len,
                                     gw_sql_tag_t *tag) {
    if (r->len - *pos < 4) return 0;
    uint32_t n = gw_get_u32(r->data + *pos);
    if (r->len - *pos - 4 < (size_t)n + 1) return 0;
    if (name) *name = r->data + *pos + 4;
    if (name_len) *name_len = n;
    if (tag) *tag = (gw_sql_tag_t)(unsigned char)r->data[*pos + 4 + n];
    *pos += 4 + (size_t)n + 1;
    return 1;
}

static inline int gw_sql_result_open(gw_sql_result *r, const char *data, size_t len) {
    r->data = data; r->len = len;
    if (len < 24 || gw_get_u32(data) != 1) return 0;
    r->flags = gw_get_u32(data + 4);
    r->rows_affected = gw_get_u64(data + 8);
    r->column_count = gw_get_u32(data + 16);
    r->row_count = gw_get_u32(data + 20);
    r->columns_pos = 24;
    size_t pos = 24;
    for (uint32_t i = 0; i < r->column_count; i++)
        if (!gw_sql_skip_column(r, &pos, NULL, NULL, NULL)) return 0;
    r->pos = pos;
    return 1;
}

static inline int gw_sql_result_column(const gw_sql_result *r, uint32_t index, const char **name, size_t *name_len,
                                       gw_sql_tag_t *tag) {
    size_t pos = r->columns_pos;
    for (uint32_t i = 0; i < index; i++)
        if (!gw_sql_skip_column(r, &pos, NULL, NULL, NULL)) return 0;
    return index < r->column_count && gw_sql_skip_column(r, &pos, name, name_len, tag);
}

/* Returns 1 and fills *v, or 0 at the end or on malformed data. */
static inline int gw_sql_result_next_cell(gw_sql_result *r, gw_sql_value *v) {
    if (r->pos >= r->len) return 0;
    const char *p = r->data + r->pos;
    size_t left = r->len - r->pos - 1;
    v->tag = (gw_sql_tag_t)(unsigned char)p[0];
    v->data = NULL; v->len = 0;
    switch (v->tag) {
    case GW_SQL_NULL:
        r->pos += 1;
        return 1;
    case GW_SQL_BOOL:
        if (left < 1) return 0;
        v->boolean = p[1] != 0;
        r->pos += 2;
        return 1;
    case GW_SQL_INT64:
    case GW_SQL_FLOAT64: {
        if (left < 8) return 0;
        uint64_t bits = gw_get_u64(p + 1);
        v->int64 = (int64_t)bits;
        memcpy(&v->float64, &bits, 8);
        r->pos += 9;
        return 1;
    }
    case GW_SQL_TEXT:
    case GW_SQL_BYTES: {
        if (left < 4) return 0;
        uint32_t n = gw_get_u32(p + 1);
        if (left - 4 < n) return 0;
        v->data = p + 5;
        v->len = n;
        r->pos += 5 + (size_t)n;
        return 1;
    }
    default:
        return 0;
    }
}

#endif
