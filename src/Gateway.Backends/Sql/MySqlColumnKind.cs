using MySqlConnector;

namespace Gateway.Backends.Sql;

/// <summary>How one MySQL/MariaDB column maps to the result encoding (fixed by column type, documented in docs/sql-providers.md).</summary>
internal enum MySqlColumnKind : byte
{
    /// <summary>The type of a bare <c>NULL</c> expression: every cell is NULL.</summary>
    Null,
    /// <summary>TINYINT(1) / BOOL.</summary>
    Bool,
    Int64,
    /// <summary>BIGINT UNSIGNED and BIT: INT64 up to 2^63−1, decimal TEXT above, so the column is tagged mixed.</summary>
    UInt64,
    Float32,
    Float64,
    /// <summary>DECIMAL: the server's exact digits as TEXT.</summary>
    Decimal,
    Text,
    Date,
    DateTime,
    /// <summary>TIMESTAMP is stored in UTC; the session runs with time_zone '+00:00', so it is written with 'Z'.</summary>
    Timestamp,
    Time,
    Bytes,
    Uuid,
}

internal static class MySqlColumnKinds
{
    public static MySqlColumnKind FromType(MySqlDbType type) => type switch
    {
        MySqlDbType.Null => MySqlColumnKind.Null,
        MySqlDbType.Bool => MySqlColumnKind.Bool,
        MySqlDbType.Byte or MySqlDbType.UByte or MySqlDbType.Int16 or MySqlDbType.UInt16 or MySqlDbType.Int24 or MySqlDbType.UInt24
            or MySqlDbType.Int32 or MySqlDbType.UInt32 or MySqlDbType.Int64 or MySqlDbType.Year => MySqlColumnKind.Int64,
        MySqlDbType.UInt64 or MySqlDbType.Bit => MySqlColumnKind.UInt64,
        MySqlDbType.Float => MySqlColumnKind.Float32,
        MySqlDbType.Double => MySqlColumnKind.Float64,
        MySqlDbType.Decimal or MySqlDbType.NewDecimal => MySqlColumnKind.Decimal,
        MySqlDbType.Date or MySqlDbType.Newdate => MySqlColumnKind.Date,
        MySqlDbType.DateTime => MySqlColumnKind.DateTime,
        MySqlDbType.Timestamp => MySqlColumnKind.Timestamp,
        MySqlDbType.Time => MySqlColumnKind.Time,
        MySqlDbType.Binary or MySqlDbType.VarBinary or MySqlDbType.TinyBlob or MySqlDbType.Blob or MySqlDbType.MediumBlob
            or MySqlDbType.LongBlob or MySqlDbType.Geometry or MySqlDbType.Vector => MySqlColumnKind.Bytes,
        MySqlDbType.Guid => MySqlColumnKind.Uuid,
        // CHAR, VARCHAR, TEXT types, ENUM, SET, JSON.
        _ => MySqlColumnKind.Text,
    };

    public static SqlValueTag Tag(MySqlColumnKind kind) => kind switch
    {
        MySqlColumnKind.Bool => SqlValueTag.Bool,
        MySqlColumnKind.Int64 => SqlValueTag.Int64,
        MySqlColumnKind.Float32 or MySqlColumnKind.Float64 => SqlValueTag.Float64,
        MySqlColumnKind.Bytes => SqlValueTag.Bytes,
        // Tag 0 = unknown/mixed: a bare NULL column, or unsigned values that may not fit INT64.
        MySqlColumnKind.Null or MySqlColumnKind.UInt64 => SqlValueTag.Null,
        _ => SqlValueTag.Text,
    };
}
