// SHA-256 (FIPS 180-4 §6.2), so an API key is hashed inside the plugin and
// only its digest ever leaves the VM (the database stores digests, never keys).

// §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
// first 64 primes.
const K: u32[] = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const w = new Array<u32>(64);
const h = new Array<u32>(8);

function compress(block: Uint8Array, offset: i32): void {
  for (let t = 0; t < 16; t++) {
    const i = offset + 4 * t;
    w[t] = (<u32>block[i] << 24) | (<u32>block[i + 1] << 16) | (<u32>block[i + 2] << 8) | <u32>block[i + 3];
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15], y = w[t - 2];
    const s0 = rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);   // σ0, §4.1.2 (4.6)
    const s1 = rotr<u32>(y, 17) ^ rotr<u32>(y, 19) ^ (y >>> 10); // σ1 (4.7)
    w[t] = s1 + w[t - 7] + s0 + w[t - 16];
  }
  let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (let t = 0; t < 64; t++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25); // Σ1 (4.5)
    const ch = (e & f) ^ (~e & g);                                      // Ch (4.2)
    const t1 = hh + S1 + ch + K[t] + w[t];
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22); // Σ0 (4.4)
    const maj = (a & b) ^ (a & c) ^ (b & c);                          // Maj (4.3)
    const t2 = S0 + maj;
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/** Lower-case hex SHA-256 of `data`. */
export function sha256Hex(data: ArrayBuffer): string {
  // §5.3.3 initial hash value.
  h[0] = 0x6a09e667; h[1] = 0xbb67ae85; h[2] = 0x3c6ef372; h[3] = 0xa54ff53a;
  h[4] = 0x510e527f; h[5] = 0x9b05688c; h[6] = 0x1f83d9ab; h[7] = 0x5be0cd19;
  // §5.1.1 padding: 0x80, zeros to 56 mod 64, then the length in bits as a 64-bit big-endian.
  const n = data.byteLength;
  const padded = ((n + 9 + 63) >> 6) << 6;
  const message = new Uint8Array(padded);
  memory.copy(message.dataStart, changetype<usize>(data), n);
  message[n] = 0x80;
  const bits = <u64>n * 8;
  for (let i = 0; i < 8; i++) message[padded - 1 - i] = <u8>(bits >> (8 * i));
  for (let offset = 0; offset < padded; offset += 64) compress(message, offset);

  const hex = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    const byte = (h[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
    hex[2 * i] = hexDigit(byte >> 4);
    hex[2 * i + 1] = hexDigit(byte & 15);
  }
  return String.UTF8.decode(hex.buffer);
}

function hexDigit(v: u32): u8 {
  return <u8>(v < 10 ? 48 + v : 87 + v);
}
