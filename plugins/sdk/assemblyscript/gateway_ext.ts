// Gateway extensions to proxy-wasm for AssemblyScript plugins built on
// @solo-io/proxy-runtime: Redis calls (Higress compatible, docs/proxy-wasm.md, 'Calls that wait')
// and SQL calls (the gateway's own, docs/proxy-wasm.md, 'The SQL extension').
//
// Both are asynchronous: the import returns a token, the plugin returns a
// pause from its phase callback, and the host later calls the exported
// callback on the ROOT context with that token (docs/proxy-wasm.md, 'Calls that wait' and 'Contexts and callbacks'). This module keeps
// the token -> (stream context, callback) registry of docs/proxy-wasm.md, 'The SQL extension': it sets the
// effective context to the stream before running the callback, and drops the
// completion when the stream is gone.
//
// A plugin that uses these calls must re-export the callbacks from its entry
// file, next to the runtime's exports:
//   export * from "@solo-io/proxy-runtime/proxy";
//   export { proxy_on_sql_call_response, proxy_on_redis_call_response } from "<path>/gateway_ext";
// Stream contexts must extend GatewayContext (see the note above the stream
// callbacks for why this module exports them).

import {
  Context, RootContext, WasmResultValues, FilterHeadersStatusValues, FilterDataStatusValues,
  proxy_set_effective_context,
} from "@solo-io/proxy-runtime";
import { get_buffer_bytes, getRootContext, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";
import {
  proxy_on_context_create as runtime_on_context_create, proxy_on_done as runtime_on_done,
  proxy_on_delete as runtime_on_delete,
} from "@solo-io/proxy-runtime/exports";

// docs/proxy-wasm.md, 'Buffers': reply buffers, readable only during the callback.
export const BUFFER_REDIS_CALL_RESPONSE: u32 = 9;
export const BUFFER_SQL_CALL_RESPONSE: u32 = 0x1000;

// docs/proxy-wasm.md, 'Calls that wait': status of proxy_on_redis_call_response.
export enum RedisCallStatus { Ok = 0, NetworkError = 1 }

// docs/proxy-wasm.md, 'The SQL extension': status of proxy_on_sql_call_response.
export enum SqlCallStatus {
  Ok = 0, Timeout = 1, StatementNotFound = 2, BadArgument = 3,
  BackendError = 4, CircuitOpen = 5, ResultTooLarge = 6,
}

// docs/proxy-wasm.md, 'The SQL extension': value tags.
export enum SqlTag { Null = 0, Bool = 1, Int64 = 2, Float64 = 3, Text = 4, Bytes = 5 }

// ---- raw imports ------------------------------------------------------------

// @ts-ignore: decorator
@external("env", "proxy_redis_init")
declare function proxy_redis_init(cluster_ptr: usize, cluster_len: usize, user_ptr: usize, user_len: usize,
  password_ptr: usize, password_len: usize, timeout_ms: u32): u32;

// @ts-ignore: decorator
@external("env", "proxy_redis_call")
declare function proxy_redis_call(cluster_ptr: usize, cluster_len: usize, query_ptr: usize, query_len: usize,
  ret_token_ptr: usize): u32;

// @ts-ignore: decorator
@external("env", "proxy_sql_call")
declare function proxy_sql_call(target_ptr: usize, target_len: usize, statement_ptr: usize, statement_len: usize,
  params_ptr: usize, params_len: usize, timeout_ms: u32, ret_token_ptr: usize): u32;

// ---- token registry ---------------------------------------------------------

export type RedisCallback = (context: GatewayContext, status: RedisCallStatus, reply: ArrayBuffer) => void;
export type SqlCallback = (context: GatewayContext, status: SqlCallStatus, numRows: u32, body: ArrayBuffer) => void;

class PendingCall {
  context: GatewayContext;
  redis: RedisCallback | null = null;
  sql: SqlCallback | null = null;
  constructor(context: GatewayContext) { this.context = context; }
}

const pendingCalls = new Map<u32, PendingCall>();
// Live stream contexts by id. Completions for a stream deleted while its call
// was pending are dropped (docs/proxy-wasm.md, 'Contexts and callbacks' and 'Versions').
const streams = new Map<u32, GatewayContext>();

/**
 * Base class for the plugin's stream contexts. Registers itself so that call
 * completions and the stream callbacks below can find it, and unregisters in
 * onDelete (call super.onDelete() when overriding).
 */
export class GatewayContext extends Context {
  constructor(context_id: u32, root_context: RootContext) {
    super(context_id, root_context);
    streams.set(context_id, this);
  }
  onDelete(): void {
    if (streams.has(this.context_id)) streams.delete(this.context_id);
  }
  // Quiet defaults: the runtime's versions build a debug log line per call.
  onDone(): bool { return true; }
  onLog(): void { }
}

// Stream callbacks, exported instead of the runtime's: proxy-runtime 0.1.8
// looks stream contexts up with a downcast (`context_map.get(id) as Context`)
// that keeps an extra reference, so every context that saw a header callback
// stayed allocated forever (measured: the VM's memory doubled every ~20k
// requests); its context creation also logs the list of every live context
// id on each request. These keep stream contexts in the typed registry above
// and hand root contexts to the runtime. Re-export them from the plugin's
// entry file together with the runtime's root-context exports.
export function proxy_on_context_create(context_id: u32, parent_context_id: u32): void {
  if (parent_context_id == 0) {
    runtime_on_context_create(context_id, 0);
    return;
  }
  // The GatewayContext constructor registers the new stream.
  getRootContext(parent_context_id).createContext(context_id);
}

export function proxy_on_done(context_id: u32): u32 {
  if (streams.has(context_id)) return streams.get(context_id).onDone() ? 1 : 0;
  return runtime_on_done(context_id);
}

export function proxy_on_delete(context_id: u32): void {
  if (streams.has(context_id)) streams.get(context_id).onDelete();
  else runtime_on_delete(context_id);
}

export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): i32 {
  if (!streams.has(context_id)) return FilterHeadersStatusValues.Continue;
  return streams.get(context_id).onRequestHeaders(headers, end_of_stream != 0) as i32;
}

export function proxy_on_request_body(context_id: u32, body_size: u32, end_of_stream: u32): i32 {
  if (!streams.has(context_id)) return FilterDataStatusValues.Continue;
  return streams.get(context_id).onRequestBody(body_size, end_of_stream != 0) as i32;
}

export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): i32 {
  if (!streams.has(context_id)) return FilterHeadersStatusValues.Continue;
  return streams.get(context_id).onResponseHeaders(headers, end_of_stream != 0) as i32;
}

export function proxy_on_response_body(context_id: u32, body_size: u32, end_of_stream: u32): i32 {
  if (!streams.has(context_id)) return FilterDataStatusValues.Continue;
  return streams.get(context_id).onResponseBody(body_size, end_of_stream != 0) as i32;
}

export function proxy_on_log(context_id: u32): void {
  if (streams.has(context_id)) streams.get(context_id).onLog();
}

const tokenSlot = new ArrayBuffer(4);

function lastToken(): u32 {
  return load<u32>(changetype<usize>(tokenSlot));
}

// ---- Redis ------------------------------------------------------------------

/** docs/proxy-wasm.md, 'Calls that wait'. Credentials live in gateway configuration; timeoutMs 0 = the target's default. */
export function redisInit(cluster: string, timeoutMs: u32): WasmResultValues {
  const name = String.UTF8.encode(cluster);
  return proxy_redis_init(changetype<usize>(name), name.byteLength, 0, 0, 0, 0, timeoutMs) as WasmResultValues;
}

/** Sends one RESP command (see RespCommand); `callback` runs with `context` effective. */
export function redisCall(cluster: string, query: ArrayBuffer, context: GatewayContext, callback: RedisCallback): WasmResultValues {
  const name = String.UTF8.encode(cluster);
  const result = proxy_redis_call(changetype<usize>(name), name.byteLength, changetype<usize>(query), query.byteLength,
    changetype<usize>(tokenSlot)) as WasmResultValues;
  if (result == WasmResultValues.Ok) {
    const pending = new PendingCall(context);
    pending.redis = callback;
    pendingCalls.set(lastToken(), pending);
  }
  return result;
}

// ---- SQL --------------------------------------------------------------------

/** docs/proxy-wasm.md, 'The SQL extension'. params: SqlParams.encode() (or an empty buffer); timeoutMs 0 = the statement's default. */
export function sqlCall(target: string, statement: string, params: ArrayBuffer, timeoutMs: u32,
  context: GatewayContext, callback: SqlCallback): WasmResultValues {
  const t = String.UTF8.encode(target);
  const s = String.UTF8.encode(statement);
  const result = proxy_sql_call(changetype<usize>(t), t.byteLength, changetype<usize>(s), s.byteLength,
    changetype<usize>(params), params.byteLength, timeoutMs, changetype<usize>(tokenSlot)) as WasmResultValues;
  if (result == WasmResultValues.Ok) {
    const pending = new PendingCall(context);
    pending.sql = callback;
    pendingCalls.set(lastToken(), pending);
  }
  return result;
}

// Returns the pending call of `token` if its stream still exists, after making
// the stream the effective context (docs/proxy-wasm.md, 'Contexts and callbacks').
function takePending(token: u32): PendingCall | null {
  if (!pendingCalls.has(token)) return null;
  const pending = pendingCalls.get(token);
  pendingCalls.delete(token);
  const id = pending.context.context_id;
  if (!streams.has(id)) return null;
  proxy_set_effective_context(id);
  return pending;
}

// The host calls these on the root context (docs/proxy-wasm.md, 'Calls that wait' and 'The SQL extension'); re-export them.
export function proxy_on_redis_call_response(root_context_id: u32, token: u32, status: u32, response_size: u32): void {
  const pending = takePending(token);
  if (pending === null) return;
  const reply = status == RedisCallStatus.Ok && response_size > 0
    ? get_buffer_bytes(BUFFER_REDIS_CALL_RESPONSE as BufferTypeValues, 0, response_size)
    : new ArrayBuffer(0);
  const callback = pending.redis;
  if (callback !== null) callback(pending.context, status as RedisCallStatus, reply);
}

export function proxy_on_sql_call_response(root_context_id: u32, token: u32, status: u32, num_rows: u32, body_size: u32): void {
  const pending = takePending(token);
  if (pending === null) return;
  const body = body_size > 0
    ? get_buffer_bytes(BUFFER_SQL_CALL_RESPONSE as BufferTypeValues, 0, body_size)
    : new ArrayBuffer(0);
  const callback = pending.sql;
  if (callback !== null) callback(pending.context, status as SqlCallStatus, num_rows, body);
}

// ---- byte writer --------------------------------------------------------------

class ByteWriter {
  bytes: Uint8Array = new Uint8Array(64);
  length: i32 = 0;

  private reserve(n: i32): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes);
    this.bytes = grown;
  }
  u8(v: u8): void { this.reserve(1); this.bytes[this.length++] = v; }
  u32(v: u32): void { this.reserve(4); store<u32>(this.bytes.dataStart + this.length, v); this.length += 4; }
  u64(v: u64): void { this.reserve(8); store<u64>(this.bytes.dataStart + this.length, v); this.length += 8; }
  raw(data: ArrayBuffer): void {
    const n = data.byteLength;
    this.reserve(n);
    memory.copy(this.bytes.dataStart + this.length, changetype<usize>(data), n);
    this.length += n;
  }
  ascii(text: string): void { this.raw(String.UTF8.encode(text)); }
  toArrayBuffer(): ArrayBuffer { return this.bytes.buffer.slice(0, this.length); }
}

// ---- RESP (docs/proxy-wasm.md, 'Calls that wait') -------------------------------------------------------------

/** One Redis command as a RESP array of bulk strings. */
export class RespCommand {
  private args: Array<ArrayBuffer> = new Array<ArrayBuffer>();

  arg(text: string): RespCommand { this.args.push(String.UTF8.encode(text)); return this; }
  argBytes(data: ArrayBuffer): RespCommand { this.args.push(data); return this; }
  argInt(value: i64): RespCommand { return this.arg(value.toString()); }

  encode(): ArrayBuffer {
    const w = new ByteWriter();
    w.ascii("*" + this.args.length.toString() + "\r\n");
    for (let i = 0; i < this.args.length; i++) {
      const a = this.args[i];
      w.ascii("$" + a.byteLength.toString() + "\r\n");
      w.raw(a);
      w.ascii("\r\n");
    }
    return w.toArrayBuffer();
  }
}

export enum RespType { Simple = 0x2B, Error = 0x2D, Integer = 0x3A, Bulk = 0x24, Array = 0x2A }

/** One RESP2 value; an array's elements are in `elements`. */
export class RespValue {
  type: RespType = RespType.Simple;
  integer: i64 = 0;             // Integer, or the length for Bulk/Array (-1 = null)
  data: ArrayBuffer = new ArrayBuffer(0); // Simple, Error, Bulk
  elements: Array<RespValue> = new Array<RespValue>();

  text(): string { return String.UTF8.decode(this.data); }
  isNull(): bool { return (this.type == RespType.Bulk || this.type == RespType.Array) && this.integer < 0; }
}

/** Parses one complete RESP2 reply; null when malformed or incomplete. */
export function parseResp(reply: ArrayBuffer): RespValue | null {
  const reader = new RespReader(reply);
  const value = reader.read(0);
  if (reader.failed) return null;
  return value;
}

class RespReader {
  bytes: Uint8Array;
  pos: i32 = 0;
  failed: bool = false;
  constructor(buffer: ArrayBuffer) { this.bytes = Uint8Array.wrap(buffer); }

  private lineEnd(): i32 {
    for (let i = this.pos; i + 1 < this.bytes.length; i++) {
      if (this.bytes[i] == 13 && this.bytes[i + 1] == 10) return i;
    }
    return -1;
  }

  private integerLine(): i64 {
    const end = this.lineEnd();
    if (end < 0 || end == this.pos) { this.failed = true; return 0; }
    let negative = false;
    let v: i64 = 0;
    let i = this.pos;
    if (this.bytes[i] == 45) { negative = true; i++; }
    if (i == end) { this.failed = true; return 0; }
    for (; i < end; i++) {
      const c = this.bytes[i];
      if (c < 48 || c > 57) { this.failed = true; return 0; }
      v = v * 10 + <i64>(c - 48);
    }
    this.pos = end + 2;
    return negative ? -v : v;
  }

  read(depth: i32): RespValue {
    const value = new RespValue();
    if (this.failed || this.pos >= this.bytes.length || depth > 16) { this.failed = true; return value; }
    const type = this.bytes[this.pos++];
    value.type = type as RespType;
    if (type == RespType.Simple || type == RespType.Error) {
      const end = this.lineEnd();
      if (end < 0) { this.failed = true; return value; }
      value.data = this.bytes.buffer.slice(this.pos, end);
      this.pos = end + 2;
    } else if (type == RespType.Integer) {
      value.integer = this.integerLine();
    } else if (type == RespType.Bulk) {
      value.integer = this.integerLine();
      if (this.failed || value.integer < 0) return value;
      const n = <i32>value.integer;
      if (this.bytes.length - this.pos < n + 2) { this.failed = true; return value; }
      value.data = this.bytes.buffer.slice(this.pos, this.pos + n);
      this.pos += n + 2;
    } else if (type == RespType.Array) {
      value.integer = this.integerLine();
      for (let i: i64 = 0; i < value.integer && !this.failed; i++) value.elements.push(this.read(depth + 1));
    } else {
      this.failed = true;
    }
    return value;
  }
}

// ---- SQL encodings (docs/proxy-wasm.md, 'The SQL extension') -----------------------------------------------------

/** Builds a parameter list: new SqlParams().text("k1").int64(42).encode(). */
export class SqlParams {
  private w: ByteWriter = new ByteWriter();
  private count: u32 = 0;

  constructor() { this.w.u32(0); }

  private tag(t: SqlTag): void { this.w.u8(<u8>t); this.count++; }
  null(): SqlParams { this.tag(SqlTag.Null); return this; }
  bool(value: bool): SqlParams { this.tag(SqlTag.Bool); this.w.u8(value ? 1 : 0); return this; }
  int64(value: i64): SqlParams { this.tag(SqlTag.Int64); this.w.u64(<u64>value); return this; }
  float64(value: f64): SqlParams { this.tag(SqlTag.Float64); this.w.u64(reinterpret<u64>(value)); return this; }
  text(value: string): SqlParams {
    const utf8 = String.UTF8.encode(value);
    this.tag(SqlTag.Text); this.w.u32(utf8.byteLength); this.w.raw(utf8);
    return this;
  }
  bytes(value: ArrayBuffer): SqlParams {
    this.tag(SqlTag.Bytes); this.w.u32(value.byteLength); this.w.raw(value);
    return this;
  }
  encode(): ArrayBuffer {
    store<u32>(this.w.bytes.dataStart, this.count);
    return this.w.toArrayBuffer();
  }
}

export class SqlValue {
  tag: SqlTag = SqlTag.Null;
  boolean: bool = false;
  int64: i64 = 0;
  float64: f64 = 0;
  data: ArrayBuffer = new ArrayBuffer(0); // TEXT (UTF-8) and BYTES

  isNull(): bool { return this.tag == SqlTag.Null; }
  text(): string { return String.UTF8.decode(this.data); }
}

export class SqlColumn {
  name: string = "";
  tag: SqlTag = SqlTag.Null; // Null = unknown or mixed
}

export class SqlResult {
  flags: u32 = 0; // bit 0: truncated at the statement's row limit
  rowsAffected: u64 = 0;
  columns: Array<SqlColumn> = new Array<SqlColumn>();
  rows: Array<Array<SqlValue>> = new Array<Array<SqlValue>>();

  truncated(): bool { return (this.flags & 1) != 0; }
}

/** Decodes the result set of a successful call; null when malformed. */
export function parseSqlResult(body: ArrayBuffer): SqlResult | null {
  const bytes = Uint8Array.wrap(body);
  const n = bytes.length;
  const base = bytes.dataStart;
  if (n < 24 || load<u32>(base) != 1) return null;
  const result = new SqlResult();
  result.flags = load<u32>(base + 4);
  result.rowsAffected = load<u64>(base + 8);
  const columnCount = load<u32>(base + 16);
  const rowCount = load<u32>(base + 20);
  let pos = 24;
  for (let c: u32 = 0; c < columnCount; c++) {
    if (n - pos < 4) return null;
    const len = <i32>load<u32>(base + pos);
    if (len < 0 || n - pos - 4 < len + 1) return null;
    const column = new SqlColumn();
    column.name = String.UTF8.decode(body.slice(pos + 4, pos + 4 + len));
    column.tag = bytes[pos + 4 + len] as SqlTag;
    result.columns.push(column);
    pos += 5 + len;
  }
  for (let r: u32 = 0; r < rowCount; r++) {
    const row = new Array<SqlValue>();
    for (let c: u32 = 0; c < columnCount; c++) {
      if (pos >= n) return null;
      const v = new SqlValue();
      v.tag = bytes[pos] as SqlTag;
      const left = n - pos - 1;
      if (v.tag == SqlTag.Null) {
        pos += 1;
      } else if (v.tag == SqlTag.Bool) {
        if (left < 1) return null;
        v.boolean = bytes[pos + 1] != 0;
        pos += 2;
      } else if (v.tag == SqlTag.Int64 || v.tag == SqlTag.Float64) {
        if (left < 8) return null;
        v.int64 = load<i64>(base + pos + 1);
        v.float64 = reinterpret<f64>(v.int64);
        pos += 9;
      } else if (v.tag == SqlTag.Text || v.tag == SqlTag.Bytes) {
        if (left < 4) return null;
        const len = <i32>load<u32>(base + pos + 1);
        if (len < 0 || left - 4 < len) return null;
        v.data = body.slice(pos + 5, pos + 5 + len);
        pos += 5 + len;
      } else {
        return null;
      }
      row.push(v);
    }
    result.rows.push(row);
  }
  return result;
}
