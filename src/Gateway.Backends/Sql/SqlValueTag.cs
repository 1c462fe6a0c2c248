namespace Gateway.Backends.Sql;

/// <summary>Value tags of the SQL extension's binary encoding (docs/proxy-wasm.md, 'The SQL extension').</summary>
internal enum SqlValueTag : byte
{
    Null = 0x00,
    Bool = 0x01,
    Int64 = 0x02,
    Float64 = 0x03,
    Text = 0x04,
    Bytes = 0x05,
}

/// <summary>What a statement parameter accepts, from the type PostgreSQL inferred when preparing it (docs/proxy-wasm.md, 'The SQL extension', last paragraph).</summary>
internal enum SqlParameterKind : byte
{
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Bytes,
    /// <summary>Text, and every type the database parses from text (numeric, date/time, uuid, json, arrays).</summary>
    Text,
    /// <summary>A placeholder whose type the database does not report (MySQL): every tag fits.</summary>
    Any,
}

internal static class SqlParameterKinds
{
    public static SqlParameterKind FromTypeName(string pgTypeName) => pgTypeName switch
    {
        "bool" => SqlParameterKind.Bool,
        "int2" => SqlParameterKind.Int16,
        "int4" => SqlParameterKind.Int32,
        "int8" or "oid" => SqlParameterKind.Int64,
        "float4" => SqlParameterKind.Float32,
        "float8" => SqlParameterKind.Float64,
        "bytea" => SqlParameterKind.Bytes,
        _ => SqlParameterKind.Text,
    };
}
