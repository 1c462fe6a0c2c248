/*
 * rate_limit: per-client request limits, several per route, counted in Redis
 * (shared by every worker and every gateway process) or locally in proxy-wasm
 * shared data.
 *
 * Configuration (plugin configuration, JSON):
 *   { "mode": "redis" | "local",            default "redis"
 *     "redis": "<redis target name>",        required in redis mode
 *     "timeoutMs": 0,                        optional; 0 = the target's timeout
 *     "failurePolicy": "open" | "closed",    Redis failure: continue, or 503
 *     "key": { "source": "header" | "clientAddress" | "property", "name": "..." },
 *     "limits": [ { "name": "per-minute", "limit": 100, "windowSeconds": 60 } ] }
 *
 * Redis mode, GCRA ("generic cell rate algorithm", the virtual-scheduling form
 * of a leaky bucket): each limit of N requests per window T keeps one value in
 * Redis, the theoretical arrival time (TAT) of the next request, and releases
 * one request every T/N with a burst of N. A client that waited T has its
 * whole quota back, and a burst of N right after that is accepted, which is
 * what users of "N per window" expect; unlike a fixed window it never lets 2N
 * through around a window boundary, and unlike a sliding log it stores one
 * number per limit. All limits of one client are checked and updated by one
 * Lua script (one round trip, atomic): a request is accepted only if every
 * limit accepts it, and only then are the TATs advanced. The script reads the
 * clock with TIME so every gateway process uses Redis' clock. Keys carry a
 * hash tag {...} so all limits of a client live in one Redis Cluster slot.
 * The script is run with EVALSHA; on a NOSCRIPT reply the same request is
 * retried once with EVAL, which also caches the script in Redis.
 *
 * Local mode: a fixed window per limit, all limits of one client in one
 * shared-data entry updated with compare-and-swap (docs/proxy-wasm.md, 'Other imports'), so
 * the workers of one gateway process agree exactly.
 *
 * Responses carry X-RateLimit-Limit / -Remaining / -Reset (seconds) of the
 * most restrictive limit; a rejected request gets 429 with Retry-After.
 * Redis failures (no reply, timeout, error reply, dispatch refused) count in
 * the metric rate_limit_redis_failures and, with the default policy "open",
 * let the request through without headers.
 */
#include "config.h"
#include "gateway_ext.h"
#include "json.h"
#include "proxy_wasm.h"
#include "sha1.h"
#include "u32_map.h"

PROXY_ABI_VERSION_0_2_1
PROXY_ALLOCATOR

#define MAX_KEY_BYTES 1024

static const char gcra_script[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local n = #KEYS\n"
    "local allowed = 1\n"
    "local retry = 0\n"
    "local tats = {}\n"
    "for i = 1, n do\n"
    "  local limit = tonumber(ARGV[2 * i - 1])\n"
    "  local window = tonumber(ARGV[2 * i]) * 1000\n"
    "  local interval = math.floor(window / limit)\n"
    "  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')\n"
    "  if tat < now then tat = now end\n"
    "  local wait = tat + interval - window - now\n"
    "  if wait > 0 then\n"
    "    allowed = 0\n"
    "    if wait > retry then retry = wait end\n"
    "  end\n"
    "  tats[i] = tat\n"
    "end\n"
    "local reply = {allowed, math.ceil(retry / 1000)}\n"
    "for i = 1, n do\n"
    "  local limit = tonumber(ARGV[2 * i - 1])\n"
    "  local window = tonumber(ARGV[2 * i]) * 1000\n"
    "  local interval = math.floor(window / limit)\n"
    "  local tat = tats[i]\n"
    "  if allowed == 1 then\n"
    "    tat = tat + interval\n"
    "    redis.call('SET', KEYS[i], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1)\n"
    "  end\n"
    "  local remaining = math.floor((now + window - tat) / interval)\n"
    "  if remaining < 0 then remaining = 0 end\n"
    "  if remaining > limit then remaining = limit end\n"
    "  reply[1 + 2 * i] = remaining\n"
    "  reply[2 + 2 * i] = math.ceil((tat - now) / 1000)\n"
    "end\n"
    "return reply\n";

static char gcra_sha[41];

typedef struct {
    uint32_t root_id;
    char *key; /* the client key, kept for the EVAL retry after NOSCRIPT */
    size_t key_len;
    int have_quota;
    uint32_t limit, remaining, reset_seconds, retry_seconds;
} stream_state;

static u32_map roots;   /* root context id -> plugin_config* (NULL until configured) */
static u32_map streams; /* stream context id -> stream_state* */
static u32_map calls;   /* redis call token -> stream context id */

PROXY_EXPORT(proxy_on_context_create)
void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id) {
    if (parent_context_id == 0) return; /* root: its configuration arrives in proxy_on_configure */
    stream_state *s = (stream_state *)calloc(1, sizeof *s);
    if (!s) return;
    s->root_id = parent_context_id;
    map_put(&streams, context_id, s);
}

PROXY_EXPORT(proxy_on_vm_start)
uint32_t proxy_on_vm_start(uint32_t root_context_id, uint32_t vm_config_size) {
    (void)root_context_id; (void)vm_config_size;
    if (gcra_sha[0] == 0) sha1_hex(gcra_script, sizeof gcra_script - 1, gcra_sha);
    return 1;
}

PROXY_EXPORT(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, uint32_t config_size) {
    char *text = NULL;
    size_t len = 0;
    if (config_size == 0 || proxy_get_buffer_bytes(PROXY_BUFFER_PLUGIN_CONFIGURATION, 0, config_size, &text, &len) != PROXY_OK) {
        log_text(PROXY_LOG_ERROR, "rate_limit: missing configuration");
        return 0;
    }
    plugin_config *c = (plugin_config *)calloc(1, sizeof *c);
    if (c) c->local_max_keys = 65536;
    int ok = c && parse_config(text, len, c);
    free(text);
    if (!ok) { free(c); return 0; }
    if (gcra_sha[0] == 0) sha1_hex(gcra_script, sizeof gcra_script - 1, gcra_sha);

    char *name = NULL;
    size_t name_len = 0;
    static const char plugin_name[] = "plugin_name";
    if (proxy_get_property(plugin_name, sizeof plugin_name - 1, &name, &name_len) == PROXY_OK && name_len > 0 &&
        name_len < sizeof c->prefix) {
        memcpy(c->prefix, name, name_len);
        c->prefix_len = name_len;
    } else {
        memcpy(c->prefix, "rate_limit", 10);
        c->prefix_len = 10;
    }
    free(name);

    static const char metric[] = "rate_limit_redis_failures";
    c->has_failures_metric =
        proxy_define_metric(PROXY_METRIC_COUNTER, metric, sizeof metric - 1, &c->failures_metric) == PROXY_OK;

    if (!c->local) {
        proxy_status_t st = proxy_redis_init(c->redis, c->redis_len, NULL, 0, NULL, 0, c->timeout_ms);
        if (st == PROXY_BAD_ARGUMENT) {
            log_text(PROXY_LOG_ERROR, "rate_limit: the redis target is not configured in the gateway");
            free(c);
            return 0;
        }
        if (st != PROXY_OK) log_text(PROXY_LOG_WARN, "rate_limit: proxy_redis_init failed; calls will fail open/closed per policy");
    }
    free(map_take(&roots, root_context_id)); /* a reconfiguration replaces the previous settings */
    map_put(&roots, root_context_id, c);
    return 1;
}

PROXY_EXPORT(proxy_on_delete)
void proxy_on_delete(uint32_t context_id) {
    stream_state *s = (stream_state *)map_take(&streams, context_id);
    if (s) {
        free(s->key);
        free(s);
        return;
    }
    free(map_take(&roots, context_id));
}

/* ---- helpers ----------------------------------------------------------------- */

static size_t format_u32(char *out, uint32_t v) {
    char tmp[10];
    size_t n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* Reads the client key; returns a malloc'ed value or NULL when the request has none. */
static char *read_key(const plugin_config *c, size_t *len) {
    char *value = NULL;
    *len = 0;
    if (c->source == KEY_HEADER) {
        if (proxy_get_header_map_value(PROXY_MAP_REQUEST_HEADERS, c->key_name, c->key_name_len, &value, len) != PROXY_OK)
            return NULL;
    } else {
        static const char address[] = "source\0address";
        const char *path = c->source == KEY_CLIENT_ADDRESS ? address : c->key_name;
        size_t path_len = c->source == KEY_CLIENT_ADDRESS ? sizeof address - 1 : c->key_name_len;
        if (proxy_get_property(path, path_len, &value, len) != PROXY_OK) return NULL;
        if (c->source == KEY_CLIENT_ADDRESS && value) {
            /* The port changes with every connection: key by address only
             * ("ip:port", or "[v6]:port" per docs/proxy-wasm.md, 'Other imports'). */
            size_t end = *len;
            if (end > 0 && value[0] == '[') {
                size_t i = 1;
                while (i < end && value[i] != ']') i++;
                memmove(value, value + 1, i - 1);
                end = i - 1;
            } else {
                while (end > 0 && value[end - 1] != ':') end--;
                end = end > 0 ? end - 1 : *len;
            }
            *len = end;
        }
    }
    if (value == NULL || *len == 0 || *len > MAX_KEY_BYTES) {
        free(value);
        *len = 0;
        return NULL;
    }
    return value;
}

static void count_failure(const plugin_config *c) {
    if (c->has_failures_metric) proxy_increment_metric(c->failures_metric, 1);
}

static void send_json_reply(uint32_t status, const char *details, const char *body, const stream_state *s,
                            int with_retry) {
    char limit[12], remaining[12], reset[12], retry[12];
    proxy_pairs_t pairs = {0};
    proxy_pairs_add(&pairs, "content-type", "application/json", 16);
    if (s && s->have_quota) {
        proxy_pairs_add(&pairs, "x-ratelimit-limit", limit, format_u32(limit, s->limit));
        proxy_pairs_add(&pairs, "x-ratelimit-remaining", remaining, format_u32(remaining, s->remaining));
        proxy_pairs_add(&pairs, "x-ratelimit-reset", reset, format_u32(reset, s->reset_seconds));
    }
    if (with_retry && s) proxy_pairs_add(&pairs, "retry-after", retry, format_u32(retry, s->retry_seconds));
    size_t headers_len = 0;
    char *headers = proxy_pairs_serialize(&pairs, &headers_len);
    proxy_send_local_response(status, details, strlen(details), body, strlen(body), headers, headers_len,
                              PROXY_GRPC_STATUS_NONE);
    free(headers);
}

/* Redis unreachable, slow, or answering nonsense: the failure policy decides. */
static void redis_failed(const plugin_config *c, uint32_t stream_id) {
    count_failure(c);
    proxy_set_effective_context(stream_id);
    if (c->fail_closed)
        send_json_reply(503, "rate_limit_redis_unavailable", "{\"error\":\"rate limit service unavailable\"}", NULL, 0);
    else
        proxy_continue_stream(PROXY_STREAM_REQUEST);
}

/* ---- local mode: fixed windows in shared data ------------------------------------ */

/* Entry layout per limit: u64 window start (ms since the epoch), u32 count. */
#define LOCAL_SLOT 12

/*
 * Shared data has no expiry, so one entry per distinct client would let a client that churns keys grow the
 * gateway's memory without end. The client key is hashed (FNV-1a) into one of localMaxKeys buckets: memory stays
 * bounded, and two clients that share a bucket share its counters (they are limited a little early, never late).
 */
static uint32_t local_bucket(const plugin_config *c, const char *key, size_t key_len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < key_len; i++) { h ^= (unsigned char)key[i]; h *= 1099511628211ull; }
    return (uint32_t)(h % c->local_max_keys);
}

static uint32_t check_local(const plugin_config *c, stream_state *s, const char *key, size_t key_len) {
    char bucket[9];
    uint32_t b = local_bucket(c, key, key_len);
    for (int i = 7; i >= 0; i--) { bucket[i] = "0123456789abcdef"[b & 15]; b >>= 4; }
    size_t shared_key_len = 3 + c->prefix_len + 1 + 8;
    char *shared_key = (char *)malloc(shared_key_len);
    if (!shared_key) return PROXY_ACTION_CONTINUE;
    memcpy(shared_key, "rl:", 3);
    memcpy(shared_key + 3, c->prefix, c->prefix_len);
    shared_key[3 + c->prefix_len] = ':';
    memcpy(shared_key + 4 + c->prefix_len, bucket, 8);

    uint64_t now_ns = 0;
    proxy_get_current_time_nanoseconds(&now_ns);
    uint64_t now_ms = now_ns / 1000000;
    char entry[MAX_LIMITS * LOCAL_SLOT];
    size_t entry_len = c->limit_count * LOCAL_SLOT;
    int allowed = 0, decided = 0;

    /* Optimistic concurrency: other workers update the same entry; retry on CAS_MISMATCH. */
    for (int attempt = 0; attempt < 64 && !decided; attempt++) {
        char *stored = NULL;
        size_t stored_len = 0;
        uint32_t cas = 0;
        proxy_status_t st = proxy_get_shared_data(shared_key, shared_key_len, &stored, &stored_len, &cas);
        /* A missing entry is inserted with a CAS no entry can have yet, so two
         * workers creating it at once cannot both succeed (docs/proxy-wasm.md, 'Other imports': a non-zero CAS
         * inserts when the key is absent and must match when it exists). */
        if (st != PROXY_OK) cas = 0xFFFFFFFFu;
        int valid = st == PROXY_OK && stored_len == entry_len;
        allowed = 1;
        uint32_t worst_remaining = UINT32_MAX;
        for (uint32_t i = 0; i < c->limit_count; i++) {
            const limit_rule *r = &c->limits[i];
            uint64_t window_ms = (uint64_t)r->window_seconds * 1000;
            uint64_t start = now_ms - now_ms % window_ms;
            uint32_t count = 0;
            if (valid && gw_get_u64(stored + i * LOCAL_SLOT) == start) count = gw_get_u32(stored + i * LOCAL_SLOT + 8);
            if (count >= r->limit) allowed = 0;
            uint32_t after = count < r->limit ? count + 1 : count;
            uint32_t remaining = r->limit - after;
            uint32_t reset = (uint32_t)((start + window_ms - now_ms + 999) / 1000);
            /* The most restrictive limit is reported: fewest remaining, then latest reset. */
            if (remaining < worst_remaining || (remaining == worst_remaining && reset > s->reset_seconds)) {
                worst_remaining = remaining;
                s->limit = r->limit;
                s->remaining = remaining;
                s->reset_seconds = reset;
            }
            if (count >= r->limit && reset > s->retry_seconds) s->retry_seconds = reset;
            gw_put_u32(entry + i * LOCAL_SLOT, (uint32_t)start);
            gw_put_u32(entry + i * LOCAL_SLOT + 4, (uint32_t)(start >> 32));
            gw_put_u32(entry + i * LOCAL_SLOT + 8, after);
        }
        free(stored);
        s->have_quota = 1;
        if (!allowed) { decided = 1; break; }
        if (proxy_set_shared_data(shared_key, shared_key_len, entry, entry_len, cas) == PROXY_OK) decided = 1;
        else { s->reset_seconds = 0; s->retry_seconds = 0; }
    }
    free(shared_key);
    if (!decided) { /* persistent contention: let the request through rather than stall the worker */
        s->have_quota = 0;
        return PROXY_ACTION_CONTINUE;
    }
    if (allowed) return PROXY_ACTION_CONTINUE;
    if (s->retry_seconds == 0) s->retry_seconds = 1;
    send_json_reply(429, "rate_limited", "{\"error\":\"rate limit exceeded\"}", s, 1);
    return PROXY_ACTION_PAUSE;
}

/* ---- redis mode ------------------------------------------------------------------ */

/* EVALSHA <sha> n key_1..key_n limit_1 window_ms_1 ... (or EVAL <script> ...). */
static proxy_status_t dispatch_redis(const plugin_config *c, uint32_t stream_id, const stream_state *s, int with_script) {
    size_t per_key = 8 + c->prefix_len + s->key_len + 64 + 16;
    size_t cap = 128 + sizeof gcra_script + c->limit_count * (per_key + 48);
    char *query = (char *)malloc(cap);
    if (!query) return PROXY_INTERNAL_FAILURE;
    char *key = (char *)malloc(per_key);
    if (!key) { free(query); return PROXY_INTERNAL_FAILURE; }

    gw_resp_writer w;
    gw_resp_begin(&w, query, cap, 3 + 3 * c->limit_count);
    if (with_script) {
        gw_resp_arg_str(&w, "EVAL");
        gw_resp_arg(&w, gcra_script, sizeof gcra_script - 1);
    } else {
        gw_resp_arg_str(&w, "EVALSHA");
        gw_resp_arg(&w, gcra_sha, 40);
    }
    gw_resp_arg_u64(&w, c->limit_count);
    for (uint32_t i = 0; i < c->limit_count; i++) {
        /* rl:{<plugin>:<client key>}:<limit name>; the hash tag keeps a client's limits in one slot. */
        size_t n = 0;
        memcpy(key + n, "rl:{", 4); n += 4;
        memcpy(key + n, c->prefix, c->prefix_len); n += c->prefix_len;
        key[n++] = ':';
        memcpy(key + n, s->key, s->key_len); n += s->key_len;
        memcpy(key + n, "}:", 2); n += 2;
        memcpy(key + n, c->limits[i].name, c->limits[i].name_len); n += c->limits[i].name_len;
        gw_resp_arg(&w, key, n);
    }
    for (uint32_t i = 0; i < c->limit_count; i++) {
        gw_resp_arg_u64(&w, c->limits[i].limit);
        gw_resp_arg_u64(&w, (uint64_t)c->limits[i].window_seconds * 1000);
    }
    free(key);
    proxy_status_t st = PROXY_INTERNAL_FAILURE;
    uint32_t token = 0;
    if (!w.failed) st = proxy_redis_call(c->redis, c->redis_len, query, w.len, &token);
    free(query);
    if (st == PROXY_OK) map_put(&calls, token, (void *)(uintptr_t)stream_id);
    return st;
}

PROXY_EXPORT(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, uint32_t num_headers, uint32_t end_of_stream) {
    (void)num_headers; (void)end_of_stream;
    stream_state *s = (stream_state *)map_get(&streams, context_id);
    if (!s) return PROXY_ACTION_CONTINUE;
    const plugin_config *c = (const plugin_config *)map_get(&roots, s->root_id);
    if (!c) return PROXY_ACTION_CONTINUE;

    size_t key_len = 0;
    char *key = read_key(c, &key_len);
    if (!key) return PROXY_ACTION_CONTINUE; /* no key, nothing to count against */

    if (c->local) {
        uint32_t action = check_local(c, s, key, key_len);
        free(key);
        return action;
    }
    s->key = key;
    s->key_len = key_len;
    proxy_status_t st = dispatch_redis(c, context_id, s, 0);
    if (st == PROXY_OK) return PROXY_ACTION_PAUSE;
    count_failure(c);
    if (!c->fail_closed) return PROXY_ACTION_CONTINUE;
    send_json_reply(503, "rate_limit_redis_unavailable", "{\"error\":\"rate limit service unavailable\"}", NULL, 0);
    return PROXY_ACTION_PAUSE;
}

/* Reads {allowed, retry_ms, remaining_1, reset_ms_1, ...}; 0 when the reply has another shape. */
static int read_verdict(const plugin_config *c, stream_state *s, const char *reply, size_t len, int *allowed) {
    gw_resp_reader r = {reply, len, 0};
    gw_resp_value v;
    if (!gw_resp_next(&r, &v) || v.type != GW_RESP_ARRAY || v.integer != 2 + 2 * (int64_t)c->limit_count) return 0;
    int64_t values[2 + 2 * MAX_LIMITS];
    for (uint32_t i = 0; i < 2 + 2 * c->limit_count; i++) {
        if (!gw_resp_next(&r, &v) || v.type != GW_RESP_INTEGER || v.integer < 0) return 0;
        values[i] = v.integer;
    }
    *allowed = values[0] == 1;
    s->retry_seconds = (uint32_t)((values[1] + 999) / 1000);
    if (s->retry_seconds == 0) s->retry_seconds = 1;
    uint32_t worst = UINT32_MAX;
    for (uint32_t i = 0; i < c->limit_count; i++) {
        uint32_t remaining = (uint32_t)values[2 + 2 * i];
        uint32_t reset = (uint32_t)((values[3 + 2 * i] + 999) / 1000);
        if (remaining < worst || (remaining == worst && reset > s->reset_seconds)) {
            worst = remaining;
            s->limit = c->limits[i].limit;
            s->remaining = remaining;
            s->reset_seconds = reset;
        }
    }
    s->have_quota = 1;
    return 1;
}

PROXY_EXPORT(proxy_on_redis_call_response)
void proxy_on_redis_call_response(uint32_t root_context_id, uint32_t token, uint32_t status, uint32_t response_size) {
    (void)root_context_id;
    void *found = map_take(&calls, token);
    if (!found) return;
    uint32_t stream_id = (uint32_t)(uintptr_t)found;
    stream_state *s = (stream_state *)map_get(&streams, stream_id);
    if (!s) return; /* the client went away while Redis was answering */
    const plugin_config *c = (const plugin_config *)map_get(&roots, s->root_id);
    if (!c) return;
    if (status != GW_REDIS_OK) { redis_failed(c, stream_id); return; }

    char *reply = NULL;
    size_t len = 0;
    if (response_size == 0 ||
        proxy_get_buffer_bytes(GW_BUFFER_REDIS_CALL_RESPONSE, 0, response_size, &reply, &len) != PROXY_OK) {
        free(reply);
        redis_failed(c, stream_id);
        return;
    }
    if (len > 9 && memcmp(reply, "-NOSCRIPT", 9) == 0) {
        /* Redis restarted or flushed its script cache: send the script itself once. */
        free(reply);
        if (dispatch_redis(c, stream_id, s, 1) != PROXY_OK) redis_failed(c, stream_id);
        return;
    }
    int allowed = 0;
    int ok = read_verdict(c, s, reply, len, &allowed);
    free(reply);
    if (!ok) {
        log_text(PROXY_LOG_WARN, "rate_limit: unexpected reply from the rate limit script");
        redis_failed(c, stream_id);
        return;
    }
    proxy_set_effective_context(stream_id);
    if (allowed) proxy_continue_stream(PROXY_STREAM_REQUEST);
    else send_json_reply(429, "rate_limited", "{\"error\":\"rate limit exceeded\"}", s, 1);
}

PROXY_EXPORT(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, uint32_t num_headers, uint32_t end_of_stream) {
    (void)num_headers; (void)end_of_stream;
    stream_state *s = (stream_state *)map_get(&streams, context_id);
    if (!s || !s->have_quota) return PROXY_ACTION_CONTINUE;
    char value[12];
    /* replace, not add: a local 429 already carries them and passes through here too */
    proxy_replace_header_map_value(PROXY_MAP_RESPONSE_HEADERS, "x-ratelimit-limit", 17, value, format_u32(value, s->limit));
    proxy_replace_header_map_value(PROXY_MAP_RESPONSE_HEADERS, "x-ratelimit-remaining", 21, value,
                                   format_u32(value, s->remaining));
    proxy_replace_header_map_value(PROXY_MAP_RESPONSE_HEADERS, "x-ratelimit-reset", 17, value,
                                   format_u32(value, s->reset_seconds));
    return PROXY_ACTION_CONTINUE;
}
