// api_key: authenticates requests by an API key header against a SQL table.
//
// The key is hashed with SHA-256 inside the plugin and only the lower-case
// hex digest is sent, as the single TEXT parameter of a named statement
// (docs/proxy-wasm.md, 'The SQL extension') whose result columns are (tenant, plan). A row admits
// the request: the tenant and plan headers are set for the upstream and the
// key header is removed. No row (unknown or revoked key) or no key → 401 with
// a JSON body. Answers are cached per VM: found keys for cacheTtlSeconds,
// unknown ones for negativeCacheTtlSeconds (so a revocation takes effect
// within cacheTtlSeconds). A database failure or timeout → 503 with the
// default policy "closed"; "open" lets the request through without identity.
//
// Configuration: { "database": "accounts", "statement": "find_api_key",
//   "header": "x-api-key", "tenantHeader": "x-tenant", "planHeader": "x-plan",
//   "cacheTtlSeconds": 30, "negativeCacheTtlSeconds": 5, "failurePolicy": "closed" }
// Root id: "api_key" (the runtime looks the root context up by rootId).

// The runtime's root-context exports, and the SDK's stream and SQL callbacks
// (see sdk/assemblyscript/gateway_ext.ts for why the SDK owns the stream ones).
export { proxy_abi_version_0_2_0, proxy_on_vm_start, proxy_on_configure } from "@solo-io/proxy-runtime/exports";
export { malloc } from "@solo-io/proxy-runtime/malloc";
export {
  proxy_on_context_create, proxy_on_request_headers, proxy_on_log, proxy_on_done, proxy_on_delete,
  proxy_on_sql_call_response,
} from "../sdk/assemblyscript/gateway_ext";

import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, HeaderPair,
  GrpcStatusValues, LogLevelValues, log, send_local_response,
} from "@solo-io/proxy-runtime";
import {
  get_buffer_bytes, get_header_map_value, get_current_time_nanoseconds,
  replace_header_map_value, remove_header_map_value, HeaderMapTypeValues, BufferTypeValues,
} from "@solo-io/proxy-runtime/runtime";
import {
  GatewayContext, SqlCallStatus, SqlParams, SqlTag, SqlValue, parseSqlResult, sqlCall,
} from "../sdk/assemblyscript/gateway_ext";
import { sha256Hex } from "./sha256";
import { ApiKeyConfig, parseConfig } from "./config";

const NANOS_PER_SECOND: u64 = 1000000000;
// Bounds the VM's memory against floods of random keys (each one a negative entry).
const MAX_CACHE_ENTRIES: i32 = 10000;

class Identity {
  found: bool;
  tenant: ArrayBuffer; // UTF-8, ready for the header map
  plan: ArrayBuffer;
  expiresAt: u64;
  constructor(found: bool, tenant: string, plan: string, expiresAt: u64) {
    this.found = found;
    this.tenant = String.UTF8.encode(tenant);
    this.plan = String.UTF8.encode(plan);
    this.expiresAt = expiresAt;
  }
}

class ApiKeyRoot extends RootContext {
  config: ApiKeyConfig = new ApiKeyConfig();
  cache: Map<string, Identity> = new Map<string, Identity>();

  // Reads the configuration itself (the runtime's default onConfigure passes
  // the size where the result-size pointer belongs).
  onConfigure(configuration_size: u32): bool {
    const text = String.UTF8.decode(get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size));
    const config = parseConfig(text);
    if (config === null) {
      log(LogLevelValues.error, "api_key: invalid configuration; expected database and statement (see plugins/README.md)");
      return false;
    }
    this.config = config;
    this.cache.clear();
    return true;
  }

  createContext(context_id: u32): Context {
    return new ApiKeyStream(context_id, this);
  }

  cached(hash: string, now: u64): Identity | null {
    if (!this.cache.has(hash)) return null;
    const entry = this.cache.get(hash);
    if (entry.expiresAt <= now) {
      this.cache.delete(hash);
      return null;
    }
    return entry;
  }

  remember(hash: string, identity: Identity, now: u64): void {
    if (this.cache.size >= MAX_CACHE_ENTRIES) {
      const keys = this.cache.keys();
      for (let i = 0; i < keys.length; i++) {
        if (this.cache.get(keys[i]).expiresAt <= now) this.cache.delete(keys[i]);
      }
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.clear();
    }
    this.cache.set(hash, identity);
  }
}

class ApiKeyStream extends GatewayContext {
  hash: string = "";

  constructor(context_id: u32, root: ApiKeyRoot) {
    super(context_id, root);
  }

  onRequestHeaders(num_headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = changetype<ApiKeyRoot>(this.root_context);
    const config = root.config;
    const key = get_header_map_value(HeaderMapTypeValues.RequestHeaders, config.headerName);
    if (key.byteLength == 0) {
      reject(401, "api_key_missing", "missing API key");
      return FilterHeadersStatusValues.StopIteration;
    }
    this.hash = sha256Hex(key);
    const now = get_current_time_nanoseconds();
    const identity = root.cached(this.hash, now);
    if (identity !== null) {
      if (!identity.found) {
        reject(401, "api_key_invalid", "invalid API key");
        return FilterHeadersStatusValues.StopIteration;
      }
      admit(config, identity);
      return FilterHeadersStatusValues.Continue;
    }
    const params = new SqlParams().text(this.hash).encode();
    const status = sqlCall(config.database, config.statement, params, config.timeoutMs, this, onLookup);
    if (status != 0) {
      log(LogLevelValues.warn, "api_key: proxy_sql_call refused with status " + status.toString());
      return unavailable(config) ? FilterHeadersStatusValues.StopIteration : FilterHeadersStatusValues.Continue;
    }
    return FilterHeadersStatusValues.StopIteration;
  }
}

// Completion of the lookup, run with the stream as the effective context.
function onLookup(context: GatewayContext, status: SqlCallStatus, numRows: u32, body: ArrayBuffer): void {
  const stream = changetype<ApiKeyStream>(context);
  const root = changetype<ApiKeyRoot>(stream.root_context);
  const config = root.config;
  if (status != SqlCallStatus.Ok) {
    log(LogLevelValues.warn, "api_key: lookup failed with SQL status " + (<u32>status).toString());
    if (!unavailable(config)) stream.continueRequest();
    return;
  }
  const result = parseSqlResult(body);
  if (result === null) {
    log(LogLevelValues.error, "api_key: malformed SQL result");
    if (!unavailable(config)) stream.continueRequest();
    return;
  }
  const now = get_current_time_nanoseconds();
  if (result.rows.length == 0 || result.columns.length < 2) {
    root.remember(stream.hash, new Identity(false, "", "", now + <u64>config.negativeCacheTtlSeconds * NANOS_PER_SECOND), now);
    reject(401, "api_key_invalid", "invalid API key");
    return;
  }
  const row = result.rows[0];
  const identity = new Identity(true, cellText(row[0]), cellText(row[1]), now + <u64>config.cacheTtlSeconds * NANOS_PER_SECOND);
  root.remember(stream.hash, identity, now);
  admit(config, identity);
  stream.continueRequest();
}

function admit(config: ApiKeyConfig, identity: Identity): void {
  // replace, so a client cannot smuggle its own tenant or plan past the plugin
  replace_header_map_value(HeaderMapTypeValues.RequestHeaders, config.tenantHeaderName, identity.tenant);
  replace_header_map_value(HeaderMapTypeValues.RequestHeaders, config.planHeaderName, identity.plan);
  remove_header_map_value(HeaderMapTypeValues.RequestHeaders, config.headerName);
}

// Database failure: returns true when the request was answered (policy closed).
function unavailable(config: ApiKeyConfig): bool {
  if (config.failClosed) {
    reject(503, "api_key_unavailable", "API key service unavailable");
    return true;
  }
  // Continue without identity: whatever the client sent in these headers is not ours.
  remove_header_map_value(HeaderMapTypeValues.RequestHeaders, config.tenantHeaderName);
  remove_header_map_value(HeaderMapTypeValues.RequestHeaders, config.planHeaderName);
  remove_header_map_value(HeaderMapTypeValues.RequestHeaders, config.headerName);
  return false;
}

function reject(status: u32, details: string, message: string): void {
  const headers: HeaderPair[] = [
    new HeaderPair(String.UTF8.encode("content-type"), String.UTF8.encode("application/json")),
  ];
  const body = String.UTF8.encode("{\"error\":\"" + message + "\"}");
  send_local_response(status, details, body, headers, GrpcStatusValues.InvalidCode);
}

// Header values must stay on one line: control characters from the table are dropped.
function cellText(value: SqlValue): string {
  let text = "";
  if (value.tag == SqlTag.Text) text = value.text();
  else if (value.tag == SqlTag.Int64) text = value.int64.toString();
  else return "";
  let clean = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c != 0x7f) clean += String.fromCharCode(c);
  }
  return clean;
}

function createRoot(context_id: u32): RootContext {
  return new ApiKeyRoot(context_id);
}

registerRootContext(createRoot, "api_key");
// Also serve a plugin configured without a rootId.
registerRootContext(createRoot, "");
