// Plugin configuration (JSON, RFC 8259), read once per root context in
// proxy_on_configure. Unknown members are ignored; a malformed document or a
// missing database/statement rejects the plugin.

export class ApiKeyConfig {
  database: string = "";
  statement: string = "";
  header: string = "x-api-key";
  tenantHeader: string = "x-tenant";
  planHeader: string = "x-plan";
  cacheTtlSeconds: u32 = 30;
  negativeCacheTtlSeconds: u32 = 5;
  failClosed: bool = true;
  timeoutMs: u32 = 0; // 0: the statement's configured default (docs/proxy-wasm.md, 'The SQL extension')
  // The header names as UTF-8, encoded once instead of on every request.
  headerName: ArrayBuffer = new ArrayBuffer(0);
  tenantHeaderName: ArrayBuffer = new ArrayBuffer(0);
  planHeaderName: ArrayBuffer = new ArrayBuffer(0);
}

class JsonScanner {
  text: string;
  pos: i32 = 0;
  failed: bool = false;
  constructor(text: string) { this.text = text; }

  peek(): i32 {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return c;
      this.pos++;
    }
    return -1;
  }

  take(c: i32): bool {
    if (this.peek() != c) { this.failed = true; return false; }
    this.pos++;
    return true;
  }

  string(): string {
    if (!this.take(0x22)) return "";
    let out = "";
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos++);
      if (c == 0x22) return out;
      if (c < 0x20) break;
      if (c != 0x5c) { out += String.fromCharCode(c); continue; }
      if (this.pos >= this.text.length) break;
      const e = this.text.charCodeAt(this.pos++);
      if (e == 0x6e) out += "\n";
      else if (e == 0x74) out += "\t";
      else if (e == 0x72) out += "\r";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x75) {
        if (this.pos + 4 > this.text.length) break;
        const code = I32.parseInt(this.text.substring(this.pos, this.pos + 4), 16);
        this.pos += 4;
        out += String.fromCharCode(code); // UTF-16 units, surrogates pass through as a pair
      } else if (e == 0x22 || e == 0x5c || e == 0x2f) out += String.fromCharCode(e);
      else break;
    }
    this.failed = true;
    return "";
  }

  // Non-negative integers only: every number here is a count of seconds or milliseconds.
  uint(): u32 {
    this.peek();
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    if (this.pos == start || this.pos - start > 9) { this.failed = true; return 0; }
    return <u32>I32.parseInt(this.text.substring(start, this.pos), 10);
  }

  skip(depth: i32): void {
    const c = this.peek();
    if (depth > 32) { this.failed = true; return; }
    if (c == 0x22) { this.string(); return; }
    if (c == 0x7b || c == 0x5b) {
      const close = c == 0x7b ? 0x7d : 0x5d;
      this.pos++;
      if (this.peek() == close) { this.pos++; return; }
      while (!this.failed) {
        if (c == 0x7b) { this.string(); this.take(0x3a); }
        this.skip(depth + 1);
        if (this.peek() == 0x2c) { this.pos++; continue; }
        this.take(close);
        return;
      }
      return;
    }
    const start = this.pos;
    while (this.pos < this.text.length) {
      const d = this.text.charCodeAt(this.pos);
      const isWordChar = (d >= 0x30 && d <= 0x39) || (d >= 0x61 && d <= 0x7a) || d == 0x2d || d == 0x2b || d == 0x2e || d == 0x45;
      if (!isWordChar) break;
      this.pos++;
    }
    const word = this.text.substring(start, this.pos);
    if (word.length == 0) this.failed = true;
    else if (word != "true" && word != "false" && word != "null" && !(word.charCodeAt(0) == 0x2d || (word.charCodeAt(0) >= 0x30 && word.charCodeAt(0) <= 0x39))) this.failed = true;
  }
}

export function parseConfig(text: string): ApiKeyConfig | null {
  const config = new ApiKeyConfig();
  const j = new JsonScanner(text);
  j.take(0x7b);
  if (!j.failed && j.peek() == 0x7d) j.pos++;
  else {
    while (!j.failed) {
      const name = j.string();
      j.take(0x3a);
      if (j.failed) break;
      if (name == "database") config.database = j.string();
      else if (name == "statement") config.statement = j.string();
      else if (name == "header") config.header = j.string().toLowerCase();
      else if (name == "tenantHeader") config.tenantHeader = j.string().toLowerCase();
      else if (name == "planHeader") config.planHeader = j.string().toLowerCase();
      else if (name == "cacheTtlSeconds") config.cacheTtlSeconds = j.uint();
      else if (name == "negativeCacheTtlSeconds") config.negativeCacheTtlSeconds = j.uint();
      else if (name == "timeoutMs") config.timeoutMs = j.uint();
      else if (name == "failurePolicy") {
        const policy = j.string();
        if (policy == "open") config.failClosed = false;
        else if (policy != "closed") j.failed = true;
      } else j.skip(0);
      if (j.peek() == 0x2c) { j.pos++; continue; }
      j.take(0x7d);
      break;
    }
  }
  if (j.failed || j.peek() != -1) return null;
  if (config.database.length == 0 || config.statement.length == 0 || config.header.length == 0) return null;
  config.headerName = String.UTF8.encode(config.header);
  config.tenantHeaderName = String.UTF8.encode(config.tenantHeader);
  config.planHeaderName = String.UTF8.encode(config.planHeader);
  return config;
}
