namespace Gateway.Backends.Sql;

/// <summary>Callback status of <c>proxy_on_sql_call_response</c> (docs/proxy-wasm.md, 'The SQL extension').</summary>
public enum SqlCallStatus
{
    Ok = 0,
    Timeout = 1,
    StatementNotFound = 2,
    BadArgument = 3,
    BackendError = 4,
    CircuitOpen = 5,
    ResultTooLarge = 6,
}

/// <summary>Synchronous verdict on a call before it is dispatched (docs/proxy-wasm.md, 'The SQL extension').</summary>
public enum SqlDispatchStatus
{
    Ok,
    NotFound,
    BadArgument,
}

/// <param name="Body">The encoded result set (docs/proxy-wasm.md, 'The SQL extension') when <see cref="SqlCallStatus.Ok"/>;
/// otherwise a short UTF-8 diagnostic without secrets or SQL text.</param>
public readonly record struct SqlResult(SqlCallStatus Status, int RowCount, byte[] Body);
