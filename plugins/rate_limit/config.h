/* rate_limit: the plugin configuration (the JSON described in rate_limit.c) and its parser. */
#ifndef RATE_LIMIT_CONFIG_H
#define RATE_LIMIT_CONFIG_H

#include <string.h>

#include "json.h"
#include "proxy_wasm.h"

#define MAX_LIMITS 8

typedef struct {
    char name[64];
    size_t name_len;
    uint32_t limit;
    uint32_t window_seconds;
} limit_rule;

typedef enum { KEY_HEADER, KEY_CLIENT_ADDRESS, KEY_PROPERTY } key_source;

typedef struct {
    int local;
    int fail_closed;
    char redis[256];
    size_t redis_len;
    uint32_t timeout_ms;
    key_source source;
    char key_name[256]; /* header name, or property path with NUL separators (docs/proxy-wasm.md, 'Other imports') */
    size_t key_name_len;
    limit_rule limits[MAX_LIMITS];
    uint32_t limit_count;
    char prefix[128]; /* the plugin name: keeps two rate_limit plugins' counters apart */
    size_t prefix_len;
    uint32_t failures_metric;
    int has_failures_metric;
    uint32_t local_max_keys; /* local mode: shared-data entries, the client key hashed into this many */
} plugin_config;

static void log_text(proxy_log_level_t level, const char *text) { proxy_log_str(level, text); }

/* Unnamed limits are told apart by their window: "w60". */
static void name_by_window(limit_rule *rule) {
    static const char digits[] = "0123456789";
    uint32_t w = rule->window_seconds, n = 0;
    char tmp[12];
    do { tmp[n++] = digits[w % 10]; w /= 10; } while (w);
    rule->name[0] = 'w';
    for (uint32_t i = 0; i < n; i++) rule->name[1 + i] = tmp[n - 1 - i];
    rule->name_len = n + 1;
}

static int parse_limits(json_reader *j, plugin_config *c) {
    int first = 1;
    while (json_element(j, &first)) {
        if (c->limit_count == MAX_LIMITS) { log_text(PROXY_LOG_ERROR, "rate_limit: at most 8 limits"); return 0; }
        limit_rule *rule = &c->limits[c->limit_count++];
        char key[32];
        int member_first = 1;
        while (json_member(j, key, sizeof key, &member_first)) {
            if (strcmp(key, "name") == 0) rule->name_len = json_string(j, rule->name, sizeof rule->name);
            else if (strcmp(key, "limit") == 0) rule->limit = (uint32_t)json_uint(j);
            else if (strcmp(key, "windowSeconds") == 0) rule->window_seconds = (uint32_t)json_uint(j);
            else json_skip(j);
        }
        if (j->error) return 0;
        if (rule->limit == 0 || rule->window_seconds == 0) {
            log_text(PROXY_LOG_ERROR, "rate_limit: every limit needs limit > 0 and windowSeconds > 0");
            return 0;
        }
        if (rule->name_len == 0) name_by_window(rule);
    }
    return !j->error;
}

static int parse_config(const char *text, size_t len, plugin_config *c) {
    json_reader j = {text, text + len, 0, 0};
    char key[32], value[64];
    int first = 1, have_key = 0, have_single = 0;
    uint32_t single_limit = 0, single_window = 0;
    while (json_member(&j, key, sizeof key, &first)) {
        if (strcmp(key, "mode") == 0) {
            json_string(&j, value, sizeof value);
            if (strcmp(value, "local") == 0) c->local = 1;
            else if (strcmp(value, "redis") != 0) { log_text(PROXY_LOG_ERROR, "rate_limit: mode must be redis or local"); return 0; }
        } else if (strcmp(key, "redis") == 0) {
            c->redis_len = json_string(&j, c->redis, sizeof c->redis);
        } else if (strcmp(key, "localMaxKeys") == 0) {
            c->local_max_keys = (uint32_t)json_uint(&j);
            if (c->local_max_keys == 0) { log_text(PROXY_LOG_ERROR, "rate_limit: localMaxKeys must be > 0"); return 0; }
        } else if (strcmp(key, "timeoutMs") == 0) {
            c->timeout_ms = (uint32_t)json_uint(&j);
        } else if (strcmp(key, "failurePolicy") == 0) {
            json_string(&j, value, sizeof value);
            if (strcmp(value, "closed") == 0) c->fail_closed = 1;
            else if (strcmp(value, "open") != 0) { log_text(PROXY_LOG_ERROR, "rate_limit: failurePolicy must be open or closed"); return 0; }
        } else if (strcmp(key, "key") == 0) {
            int key_first = 1;
            have_key = 1;
            c->source = KEY_HEADER;
            while (json_member(&j, key, sizeof key, &key_first)) {
                if (strcmp(key, "source") == 0) {
                    json_string(&j, value, sizeof value);
                    if (strcmp(value, "header") == 0) c->source = KEY_HEADER;
                    else if (strcmp(value, "clientAddress") == 0) c->source = KEY_CLIENT_ADDRESS;
                    else if (strcmp(value, "property") == 0) c->source = KEY_PROPERTY;
                    else { log_text(PROXY_LOG_ERROR, "rate_limit: key.source must be header, clientAddress or property"); return 0; }
                } else if (strcmp(key, "name") == 0) {
                    c->key_name_len = json_string(&j, c->key_name, sizeof c->key_name);
                } else json_skip(&j);
            }
        } else if (strcmp(key, "limits") == 0) {
            if (!parse_limits(&j, c)) return 0;
        } else if (strcmp(key, "limit") == 0) { /* the single pair of earlier examples: one limit */
            single_limit = (uint32_t)json_uint(&j);
            have_single = 1;
        } else if (strcmp(key, "windowSeconds") == 0) {
            single_window = (uint32_t)json_uint(&j);
            have_single = 1;
        } else json_skip(&j);
    }
    if (j.error || json_peek(&j) != -1) { log_text(PROXY_LOG_ERROR, "rate_limit: configuration is not valid JSON"); return 0; }
    if (have_single) {
        if (c->limit_count > 0) { log_text(PROXY_LOG_ERROR, "rate_limit: give either limits or limit/windowSeconds, not both"); return 0; }
        if (single_limit == 0 || single_window == 0) {
            log_text(PROXY_LOG_ERROR, "rate_limit: limit and windowSeconds must both be > 0");
            return 0;
        }
        limit_rule *rule = &c->limits[c->limit_count++];
        rule->limit = single_limit;
        rule->window_seconds = single_window;
        name_by_window(rule);
    }
    if (!have_key) c->source = KEY_CLIENT_ADDRESS;
    if (c->limit_count == 0) { log_text(PROXY_LOG_ERROR, "rate_limit: limits must list at least one limit"); return 0; }
    if (!c->local && c->redis_len == 0) { log_text(PROXY_LOG_ERROR, "rate_limit: redis mode needs \"redis\": a target name"); return 0; }
    if (c->source != KEY_CLIENT_ADDRESS && c->key_name_len == 0) { log_text(PROXY_LOG_ERROR, "rate_limit: key.name is required"); return 0; }
    if (c->source == KEY_HEADER) /* header maps are looked up case-insensitively, but keep it canonical */
        for (size_t i = 0; i < c->key_name_len; i++)
            if (c->key_name[i] >= 'A' && c->key_name[i] <= 'Z') c->key_name[i] = (char)(c->key_name[i] + 32);
    if (c->source == KEY_PROPERTY) /* "source.address" -> "source\0address" (docs/proxy-wasm.md, 'Other imports') */
        for (size_t i = 0; i < c->key_name_len; i++)
            if (c->key_name[i] == '.') c->key_name[i] = 0;
    return 1;
}

#endif
