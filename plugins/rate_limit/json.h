/*
 * A small pull-style JSON (RFC 8259) reader for plugin configuration: the
 * caller walks objects and arrays member by member and reads the values it
 * knows, skipping the rest. Any syntax error sets `error` and makes every
 * later read fail, so a configuration is either read whole or rejected.
 */
#ifndef RATE_LIMIT_JSON_H
#define RATE_LIMIT_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *p;
    const char *end;
    int error;
    int depth;
} json_reader;

static void json_ws(json_reader *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

static int json_peek(json_reader *j) {
    json_ws(j);
    return (!j->error && j->p < j->end) ? (unsigned char)*j->p : -1;
}

static int json_take(json_reader *j, char c) {
    if (json_peek(j) != (unsigned char)c) { j->error = 1; return 0; }
    j->p++;
    return 1;
}

static int json_hex4(json_reader *j, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (j->p >= j->end) return 0;
        char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

/* Reads a string into out (UTF-8, NUL-terminated); a string longer than
 * cap - 1 bytes is an error. Returns the length. */
static size_t json_string(json_reader *j, char *out, size_t cap) {
    size_t n = 0;
    if (!json_take(j, '"')) return 0;
    while (j->p < j->end && *j->p != '"') {
        uint32_t cp = (unsigned char)*j->p++;
        if (cp < 0x20) { j->error = 1; return 0; }
        if (cp == '\\') {
            if (j->p >= j->end) { j->error = 1; return 0; }
            char e = *j->p++;
            switch (e) {
            case '"': case '\\': case '/': cp = (uint32_t)e; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                if (!json_hex4(j, &cp)) { j->error = 1; return 0; }
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* surrogate pair (RFC 8259 §7) */
                    uint32_t low;
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u') { j->error = 1; return 0; }
                    j->p += 2;
                    if (!json_hex4(j, &low) || low < 0xDC00 || low > 0xDFFF) { j->error = 1; return 0; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                break;
            }
            default: j->error = 1; return 0;
            }
            /* encode cp as UTF-8 */
            char u[4];
            size_t k;
            if (cp < 0x80) { u[0] = (char)cp; k = 1; }
            else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); k = 2; }
            else if (cp < 0x10000) { u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); k = 3; }
            else { u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); k = 4; }
            for (size_t i = 0; i < k; i++) {
                if (n + 1 >= cap) { j->error = 1; return 0; }
                out[n++] = u[i];
            }
            continue;
        }
        if (n + 1 >= cap) { j->error = 1; return 0; }
        out[n++] = (char)cp;
    }
    if (!json_take(j, '"')) return 0;
    out[n] = 0;
    return n;
}

/* Reads a non-negative integer; fractions, exponents and signs are errors
 * (every number in our configurations is a count or a duration). */
static uint64_t json_uint(json_reader *j) {
    uint64_t v = 0;
    int digits = 0;
    json_ws(j);
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        v = v * 10 + (uint64_t)(*j->p++ - '0');
        if (++digits > 15) { j->error = 1; return 0; }
    }
    if (digits == 0 || (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))) j->error = 1;
    return v;
}

static void json_literal(json_reader *j, const char *word) {
    for (; *word; word++) {
        if (j->p >= j->end || *j->p != *word) { j->error = 1; return; }
        j->p++;
    }
}

/* Skips any value, nested at most 32 deep. */
static void json_skip(json_reader *j) {
    char scratch[1024];
    int c = json_peek(j);
    if (++j->depth > 32) { j->error = 1; return; }
    if (c == '"') json_string(j, scratch, sizeof scratch);
    else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        if (json_peek(j) == close) j->p++;
        else {
            for (;;) {
                if (c == '{') { json_string(j, scratch, sizeof scratch); json_take(j, ':'); }
                json_skip(j);
                if (j->error) break;
                if (json_peek(j) == ',') { j->p++; continue; }
                json_take(j, close);
                break;
            }
        }
    } else if (c == 't') json_literal(j, "true");
    else if (c == 'f') json_literal(j, "false");
    else if (c == 'n') json_literal(j, "null");
    else if (c == '-' || (c >= '0' && c <= '9')) {
        j->p++;
        while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' || *j->p == 'E' ||
                                 *j->p == '+' || *j->p == '-')) j->p++;
    } else j->error = 1;
    j->depth--;
}

/* Object iteration: `int first = 1; while (json_member(j, key, sizeof key, &first)) { read value }`. */
static int json_member(json_reader *j, char *key, size_t cap, int *first) {
    if (*first) {
        *first = 0;
        if (!json_take(j, '{')) return 0;
        if (json_peek(j) == '}') { j->p++; return 0; }
    } else {
        if (json_peek(j) == '}') { j->p++; return 0; }
        if (!json_take(j, ',')) return 0;
    }
    json_string(j, key, cap);
    json_take(j, ':');
    return !j->error;
}

/* Array iteration: `int first = 1; while (json_element(j, &first)) { read value }`. */
static int json_element(json_reader *j, int *first) {
    if (*first) {
        *first = 0;
        if (!json_take(j, '[')) return 0;
        if (json_peek(j) == ']') { j->p++; return 0; }
        return !j->error;
    }
    if (json_peek(j) == ']') { j->p++; return 0; }
    json_take(j, ',');
    return !j->error;
}

#endif
