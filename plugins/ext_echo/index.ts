// ext_echo: answers a request with what the gateway's Redis or SQL extension
// returned, so the extension, the SDK's encoders and decoders, and a real
// Redis/PostgreSQL can be checked end to end from an HTTP client. A
// diagnostic plugin: never put it on a production route.
//
// Configuration: { "redis": "<redis target>", "database": "<database>" }
//
//   x-echo-redis: SET k v            the command, arguments separated by spaces
//   x-echo-sql: <statement>          a named statement of "database"
//   x-echo-sql-params: t:abc,i:-42,f:1.5,b:1,y:00ff,n:
//                                    typed parameters (text, int64, float64,
//                                    bool, bytes as hex, null), comma-separated
//
// Reply: 200 with a JSON body. Redis: {"status":0,"reply":<RESP as JSON>},
// where a simple string is {"simple":"..."}, an error {"error":"..."}, an
// integer a number, a bulk string a string (null when nil), an array a list.
// SQL: {"status":0,"rows":1,"flags":0,"rowsAffected":0,"columns":[{"name":"x","tag":4}],
// "cells":[[...]]}, where TEXT is a string, INT64 {"i":"-42"} (decimal text,
// exact), FLOAT64 {"f":1.5}, BOOL true/false, BYTES {"hex":"00ff"}, NULL null.
// A failed call: {"status":<status>,"detail":"<the host's diagnostic text>"}.

export { proxy_abi_version_0_2_0, proxy_on_vm_start, proxy_on_configure } from "@solo-io/proxy-runtime/exports";
export { malloc } from "@solo-io/proxy-runtime/malloc";
export {
  proxy_on_context_create, proxy_on_request_headers, proxy_on_log, proxy_on_done, proxy_on_delete,
  proxy_on_redis_call_response, proxy_on_sql_call_response,
} from "../sdk/assemblyscript/gateway_ext";

import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, HeaderPair, GrpcStatusValues,
  send_local_response,
} from "@solo-io/proxy-runtime";
import { get_buffer_bytes, get_header_map_value, HeaderMapTypeValues, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";
import {
  GatewayContext, RedisCallStatus, RespCommand, RespType, RespValue, SqlCallStatus, SqlParams, SqlTag,
  parseResp, parseSqlResult, redisCall, redisInit, sqlCall,
} from "../sdk/assemblyscript/gateway_ext";

class EchoRoot extends RootContext {
  redis: string = "";
  database: string = "";

  onConfigure(configuration_size: u32): bool {
    const text = String.UTF8.decode(get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size));
    this.redis = member(text, "redis");
    this.database = member(text, "database");
    if (this.redis.length > 0) redisInit(this.redis, 0);
    return true;
  }

  createContext(context_id: u32): Context {
    return new EchoStream(context_id, this);
  }
}

class EchoStream extends GatewayContext {
  constructor(context_id: u32, root: EchoRoot) {
    super(context_id, root);
  }

  onRequestHeaders(num_headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = changetype<EchoRoot>(this.root_context);
    const command = header("x-echo-redis");
    if (command.length > 0) {
      const resp = new RespCommand();
      const words = command.split(" ");
      for (let i = 0; i < words.length; i++) if (words[i].length > 0) resp.arg(words[i]);
      const status = redisCall(root.redis, resp.encode(), this, onRedis);
      if (status != 0) reply("{\"dispatch\":" + (<u32>status).toString() + "}");
      return FilterHeadersStatusValues.StopIteration;
    }
    const statement = header("x-echo-sql");
    if (statement.length > 0) {
      const params = parseParams(header("x-echo-sql-params"));
      const status = params === null ? 2 : sqlCall(root.database, statement, params, 0, this, onSql);
      if (status != 0) reply("{\"dispatch\":" + (<u32>status).toString() + "}");
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }
}

function onRedis(context: GatewayContext, status: RedisCallStatus, data: ArrayBuffer): void {
  if (status != RedisCallStatus.Ok) {
    reply("{\"status\":" + (<u32>status).toString() + "}");
    return;
  }
  const value = parseResp(data);
  if (value === null) {
    reply("{\"status\":0,\"unparsable\":true}");
    return;
  }
  reply("{\"status\":0,\"reply\":" + respJson(value) + "}");
}

function onSql(context: GatewayContext, status: SqlCallStatus, numRows: u32, body: ArrayBuffer): void {
  if (status != SqlCallStatus.Ok) {
    reply("{\"status\":" + (<u32>status).toString() + ",\"detail\":" + jsonString(String.UTF8.decode(body)) + "}");
    return;
  }
  const result = parseSqlResult(body);
  if (result === null) {
    reply("{\"status\":0,\"malformed\":true}");
    return;
  }
  let out = "{\"status\":0,\"rows\":" + numRows.toString() + ",\"flags\":" + result.flags.toString() +
    ",\"rowsAffected\":" + result.rowsAffected.toString() + ",\"columns\":[";
  for (let c = 0; c < result.columns.length; c++) {
    if (c > 0) out += ",";
    out += "{\"name\":" + jsonString(result.columns[c].name) + ",\"tag\":" + (<u32>result.columns[c].tag).toString() + "}";
  }
  out += "],\"cells\":[";
  for (let r = 0; r < result.rows.length; r++) {
    if (r > 0) out += ",";
    out += "[";
    const row = result.rows[r];
    for (let c = 0; c < row.length; c++) {
      if (c > 0) out += ",";
      const v = row[c];
      if (v.tag == SqlTag.Null) out += "null";
      else if (v.tag == SqlTag.Bool) out += v.boolean ? "true" : "false";
      else if (v.tag == SqlTag.Int64) out += "{\"i\":\"" + v.int64.toString() + "\"}";
      else if (v.tag == SqlTag.Float64) out += "{\"f\":" + v.float64.toString() + "}";
      else if (v.tag == SqlTag.Text) out += jsonString(v.text());
      else out += "{\"hex\":\"" + hex(v.data) + "\"}";
    }
    out += "]";
  }
  reply(out + "]}");
}

function respJson(value: RespValue): string {
  if (value.type == RespType.Simple) return "{\"simple\":" + jsonString(value.text()) + "}";
  if (value.type == RespType.Error) return "{\"error\":" + jsonString(value.text()) + "}";
  if (value.type == RespType.Integer) return value.integer.toString();
  if (value.isNull()) return "null";
  if (value.type == RespType.Bulk) return jsonString(value.text());
  let out = "[";
  for (let i = 0; i < value.elements.length; i++) {
    if (i > 0) out += ",";
    out += respJson(value.elements[i]);
  }
  return out + "]";
}

// "t:abc,i:-42,f:1.5,b:1,y:00ff,n:" → the docs/proxy-wasm.md, 'The SQL extension' parameter list; null when malformed.
function parseParams(text: string): ArrayBuffer | null {
  const params = new SqlParams();
  if (text.length == 0) return params.encode();
  const items = text.split(",");
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (item.length < 2 || item.charCodeAt(1) != 0x3a) return null;
    const kind = item.charAt(0);
    const value = item.substring(2);
    if (kind == "t") params.text(value);
    else if (kind == "i") params.int64(I64.parseInt(value, 10));
    else if (kind == "f") params.float64(F64.parseFloat(value));
    else if (kind == "b") params.bool(value == "1" || value == "true");
    else if (kind == "n") params.null();
    else if (kind == "y") {
      if (value.length % 2 != 0) return null;
      const bytes = new Uint8Array(value.length / 2);
      for (let j = 0; j < bytes.length; j++) bytes[j] = <u8>I32.parseInt(value.substring(2 * j, 2 * j + 2), 16);
      params.bytes(bytes.buffer);
    } else return null;
  }
  return params.encode();
}

function header(name: string): string {
  return String.UTF8.decode(get_header_map_value(HeaderMapTypeValues.RequestHeaders, String.UTF8.encode(name)));
}

function reply(body: string): void {
  const headers: HeaderPair[] = [
    new HeaderPair(String.UTF8.encode("content-type"), String.UTF8.encode("application/json")),
  ];
  send_local_response(200, "ext_echo", String.UTF8.encode(body), headers, GrpcStatusValues.InvalidCode);
}

function jsonString(text: string): string {
  let out = "\"";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

function hex(data: ArrayBuffer): string {
  const bytes = Uint8Array.wrap(data);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + (<u32>bytes[i]).toString(16);
  return out;
}

// The string value of a top-level member of a flat JSON object (configuration
// here is two names; values without escapes).
function member(json: string, name: string): string {
  const key = "\"" + name + "\"";
  const at = json.indexOf(key);
  if (at < 0) return "";
  const open = json.indexOf("\"", json.indexOf(":", at + key.length) + 1);
  if (open < 0) return "";
  const close = json.indexOf("\"", open + 1);
  return close < 0 ? "" : json.substring(open + 1, close);
}

function createRoot(context_id: u32): RootContext {
  return new EchoRoot(context_id);
}

registerRootContext(createRoot, "ext_echo");
registerRootContext(createRoot, "");
