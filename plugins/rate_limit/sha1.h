/*
 * SHA-1 (FIPS 180-4 §6.1), used only to name the Lua script for EVALSHA the
 * way Redis does (the lower-case hex SHA-1 of the script body), so the first
 * request can try EVALSHA without a SCRIPT LOAD round trip. Not used for
 * anything security related.
 */
#ifndef RATE_LIMIT_SHA1_H
#define RATE_LIMIT_SHA1_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint32_t sha1_rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const unsigned char *block) {
    uint32_t w[80];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 | (uint32_t)block[4 * t + 2] << 8 |
               (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 80; t++) w[t] = sha1_rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int t = 0; t < 80; t++) {
        uint32_t f, k;
        if (t < 20) { f = (b & c) | (~b & d); k = 0x5A827999; }
        else if (t < 40) { f = b ^ c ^ d; k = 0x6ED9EBA1; }
        else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8F1BBCDC; }
        else { f = b ^ c ^ d; k = 0xCA62C1D6; }
        uint32_t temp = sha1_rotl(a, 5) + f + e + k + w[t];
        e = d; d = c; c = sha1_rotl(b, 30); b = a; a = temp;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/* Writes 40 lower-case hex digits and a NUL into hex[41]. */
static void sha1_hex(const char *data, size_t len, char hex[41]) {
    uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    unsigned char block[64];
    size_t full = len / 64 * 64;
    for (size_t i = 0; i < full; i += 64) sha1_block(h, (const unsigned char *)data + i);
    /* §5.1.1 padding: 0x80, zeros, then the bit length as 64-bit big-endian. */
    size_t rest = len - full;
    memset(block, 0, sizeof block);
    memcpy(block, data + full, rest);
    block[rest] = 0x80;
    if (rest >= 56) { sha1_block(h, block); memset(block, 0, sizeof block); }
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) block[63 - i] = (unsigned char)(bits >> (8 * i));
    sha1_block(h, block);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        unsigned char byte = (unsigned char)(h[i / 4] >> (24 - 8 * (i % 4)));
        hex[2 * i] = digits[byte >> 4];
        hex[2 * i + 1] = digits[byte & 15];
    }
    hex[40] = 0;
}

#endif
