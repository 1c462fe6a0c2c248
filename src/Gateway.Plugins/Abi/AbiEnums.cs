namespace Gateway.Plugins.Abi;

/// <summary>The ABI marker a module exports (docs/proxy-wasm.md, 'Versions'); callback semantics switch on it.</summary>
internal enum AbiVersion
{
    V0_1_0,
    V0_2_0,
    V0_2_1,
    V0_2_100,
}

/// <summary><c>proxy_status_t</c> (docs/proxy-wasm.md, 'Other imports').</summary>
internal enum WasmResult
{
    Ok = 0,
    NotFound = 1,
    BadArgument = 2,
    SerializationFailure = 3,
    ParseFailure = 4,
    InvalidMemoryAccess = 6,
    Empty = 7,
    CasMismatch = 8,
    InternalFailure = 10,
    BrokenConnection = 11,
    Unimplemented = 12,
}

/// <summary>Buffer types (docs/proxy-wasm.md, 'Buffers').</summary>
internal enum BufferType
{
    HttpRequestBody = 0,
    HttpResponseBody = 1,
    DownstreamData = 2,
    UpstreamData = 3,
    HttpCallResponseBody = 4,
    GrpcReceiveBuffer = 5,
    VmConfiguration = 6,
    PluginConfiguration = 7,
    CallData = 8,
    RedisCallResponse = 9,
    SqlCallResponse = 0x1000,
}

/// <summary>Header map types (docs/proxy-wasm.md, 'Other imports').</summary>
internal enum MapType
{
    HttpRequestHeaders = 0,
    HttpRequestTrailers = 1,
    HttpResponseHeaders = 2,
    HttpResponseTrailers = 3,
    GrpcReceiveInitialMetadata = 4,
    GrpcReceiveTrailingMetadata = 5,
    HttpCallResponseHeaders = 6,
    HttpCallResponseTrailers = 7,
}

/// <summary>Stream types for continue/close (docs/proxy-wasm.md, 'Other imports').</summary>
internal enum StreamType
{
    HttpRequest = 0,
    HttpResponse = 1,
    Downstream = 2,
    Upstream = 3,
}

/// <summary>WASI preview1 errno values the host returns (docs/proxy-wasm.md, 'Other imports').</summary>
internal static class WasiErrno
{
    public const int Success = 0;
    public const int BadF = 8;
    public const int Fault = 21;
    public const int Inval = 28;
    public const int NoEnt = 44;
    public const int NoSys = 52;
    public const int NotSup = 58;
}
