/*
 * Unit test of the codecs in gateway_ext.h, compiled natively (the codecs are
 * plain C; the wasm import attributes are ignored on the host). Expected
 * bytes are the examples of docs/proxy-wasm.md, 'Calls that wait' and 'The SQL extension', plus every
 * value type and every truncation of a valid input. Exit status 0 = pass.
 *
 *   clang-14 -std=c11 -Wall -Wextra -Werror -Wno-unknown-attributes -I.. gateway_ext_test.c
 */
#include <stdio.h>

#include "gateway_ext.h"

static int failures;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

static int bytes_equal(const char *actual, size_t actual_len, const char *expected, size_t expected_len) {
    return actual_len == expected_len && memcmp(actual, expected, expected_len) == 0;
}

static void resp_command_encodes_bulk_strings(void) {
    char buf[64];
    gw_resp_writer w;
    gw_resp_begin(&w, buf, sizeof buf, 2);
    gw_resp_arg_str(&w, "GET");
    gw_resp_arg(&w, "k", 1);
    static const char expected[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"; /* docs/proxy-wasm.md, 'Calls that wait' */
    CHECK(!w.failed && bytes_equal(buf, w.len, expected, sizeof expected - 1));

    gw_resp_begin(&w, buf, sizeof buf, 3);
    gw_resp_arg_str(&w, "INCRBY");
    gw_resp_arg(&w, "a\0b", 3); /* binary safe */
    gw_resp_arg_u64(&w, 18446744073709551615u);
    static const char expected2[] = "*3\r\n$6\r\nINCRBY\r\n$3\r\na\0b\r\n$20\r\n18446744073709551615\r\n";
    CHECK(!w.failed && bytes_equal(buf, w.len, expected2, sizeof expected2 - 1));

    gw_resp_begin(&w, buf, 10, 1);
    gw_resp_arg_str(&w, "TOO-LONG-FOR-TEN-BYTES");
    CHECK(w.failed);
}

static void resp_reader_reads_every_reply_type(void) {
    static const char reply[] = "*5\r\n+OK\r\n-ERR no\r\n:-42\r\n$3\r\na\r\n\r\n*2\r\n$-1\r\n*0\r\n";
    gw_resp_reader r = {reply, sizeof reply - 1, 0};
    gw_resp_value v;
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_ARRAY && v.integer == 5);
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_SIMPLE && bytes_equal(v.str, v.len, "OK", 2));
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_ERROR && bytes_equal(v.str, v.len, "ERR no", 6));
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_INTEGER && v.integer == -42);
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_BULK && bytes_equal(v.str, v.len, "a\r\n", 3));
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_ARRAY && v.integer == 2);
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_BULK && v.integer == -1 && v.str == NULL);
    CHECK(gw_resp_next(&r, &v) && v.type == GW_RESP_ARRAY && v.integer == 0);
    CHECK(!gw_resp_next(&r, &v)); /* end */

    /* Every proper prefix of a bulk string reply is incomplete, never a value. */
    static const char bulk[] = "$5\r\nhello\r\n";
    for (size_t cut = 0; cut < sizeof bulk - 1; cut++) {
        gw_resp_reader p = {bulk, cut, 0};
        CHECK(!gw_resp_next(&p, &v));
    }
    static const char *malformed[] = {"?x\r\n", ":\r\n", ":12a\r\n", "$-\r\n", ":1234567890123456789\r\n"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        gw_resp_reader p = {malformed[i], strlen(malformed[i]), 0};
        CHECK(!gw_resp_next(&p, &v));
    }
}

static void sql_params_match_the_abi_example(void) {
    char buf[64];
    gw_sql_params p;
    gw_sql_params_begin(&p, buf, sizeof buf);
    gw_sql_param_text(&p, "k1", 2);
    gw_sql_param_int64(&p, 42);
    static const char expected[] = { /* docs/proxy-wasm.md, 'The SQL extension': ("k1", 42), 20 bytes */
        0x02, 0, 0, 0, 0x04, 0x02, 0, 0, 0, 0x6B, 0x31, 0x02, 0x2A, 0, 0, 0, 0, 0, 0, 0};
    CHECK(!p.failed && bytes_equal(buf, p.len, expected, sizeof expected));

    gw_sql_params_begin(&p, buf, sizeof buf);
    gw_sql_param_null(&p);
    gw_sql_param_bool(&p, 1);
    gw_sql_param_int64(&p, -2);
    gw_sql_param_float64(&p, 1.5);
    gw_sql_param_bytes(&p, "\x00\xff", 2);
    static const char every[] = {
        0x05, 0, 0, 0,
        0x00,
        0x01, 0x01,
        0x02, (char)0xFE, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF,
        0x03, 0, 0, 0, 0, 0, 0, (char)0xF8, 0x3F,
        0x05, 0x02, 0, 0, 0, 0x00, (char)0xFF};
    CHECK(!p.failed && bytes_equal(buf, p.len, every, sizeof every));

    gw_sql_params_begin(&p, buf, 8);
    gw_sql_param_text(&p, "longer than eight", 17);
    CHECK(p.failed);
}

static void sql_result_decodes_the_abi_example_and_every_type(void) {
    static const char tier[] = { /* docs/proxy-wasm.md, 'The SQL extension': column tier (TEXT), one row "gold" */
        1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0,
        4, 0, 0, 0, 't', 'i', 'e', 'r', 4,
        4, 4, 0, 0, 0, 'g', 'o', 'l', 'd'};
    gw_sql_result r;
    gw_sql_value v;
    const char *name;
    size_t name_len;
    gw_sql_tag_t tag;
    CHECK(gw_sql_result_open(&r, tier, sizeof tier));
    CHECK(r.column_count == 1 && r.row_count == 1 && r.flags == 0 && r.rows_affected == 0);
    CHECK(gw_sql_result_column(&r, 0, &name, &name_len, &tag) && bytes_equal(name, name_len, "tier", 4) && tag == GW_SQL_TEXT);
    CHECK(!gw_sql_result_column(&r, 1, &name, &name_len, &tag));
    CHECK(gw_sql_result_next_cell(&r, &v) && v.tag == GW_SQL_TEXT && bytes_equal(v.data, v.len, "gold", 4));
    CHECK(!gw_sql_result_next_cell(&r, &v));

    static const char every[] = {
        1, 0, 0, 0, 1, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0,
        1, 0, 0, 0, 'b', 1, 1, 0, 0, 0, 'i', 2, 1, 0, 0, 0, 'f', 3, 1, 0, 0, 0, 'y', 5, 1, 0, 0, 0, 'n', 0,
        1, 0,
        2, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0xFF, (char)0x7F,
        3, 0, 0, 0, 0, 0, 0, (char)0xF8, (char)0xBF,
        5, 1, 0, 0, 0, (char)0xAB,
        0};
    CHECK(gw_sql_result_open(&r, every, sizeof every));
    CHECK((r.flags & GW_SQL_RESULT_TRUNCATED) && r.rows_affected == 7 && r.column_count == 5);
    CHECK(gw_sql_result_next_cell(&r, &v) && v.tag == GW_SQL_BOOL && v.boolean == 0);
    CHECK(gw_sql_result_next_cell(&r, &v) && v.tag == GW_SQL_INT64 && v.int64 == INT64_MAX);
    CHECK(gw_sql_result_next_cell(&r, &v) && v.tag == GW_SQL_FLOAT64 && v.float64 == -1.5);
    CHECK(gw_sql_result_next_cell(&r, &v) && v.tag == GW_SQL_BYTES && bytes_equal(v.data, v.len, "\xAB", 1));
    CHECK(gw_sql_result_next_cell(&r, &v) && v.tag == GW_SQL_NULL);
    CHECK(!gw_sql_result_next_cell(&r, &v));

    /* A truncated result either fails to open or yields fewer cells, never reads past the end. */
    for (size_t cut = 0; cut < sizeof every; cut++) {
        int cells = 0;
        if (gw_sql_result_open(&r, every, cut))
            while (gw_sql_result_next_cell(&r, &v)) cells++;
        CHECK(cells < 5);
    }
}

int main(void) {
    resp_command_encodes_bulk_strings();
    resp_reader_reads_every_reply_type();
    sql_params_match_the_abi_example();
    sql_result_decodes_the_abi_example_and_every_type();
    if (failures == 0) puts("gateway_ext.h: all checks passed");
    return failures == 0 ? 0 : 1;
}
