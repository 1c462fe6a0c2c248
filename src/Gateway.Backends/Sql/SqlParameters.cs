using System.Buffers.Binary;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Gateway.Backends.Sql;

/// <summary>
/// The parameter list of a call (docs/proxy-wasm.md, 'The SQL extension'): <c>u32 count</c> then tagged values, little-endian,
/// ending exactly after the last value. Checked against the statement's declared parameter types,
/// then bound as driver parameters (never interpolated into SQL, docs/proxy-wasm.md, 'The SQL extension').
/// </summary>
internal static class SqlParameters
{
    /// <summary>Well-formedness, count and type fit. <paramref name="declared"/> null = not described yet: only the encoding is checked.</summary>
    public static bool IsValid(ReadOnlySpan<byte> encoded, SqlParameterKind[]? declared)
    {
        var reader = new SqlValueReader(encoded);
        if (!reader.TryReadCount(out var count) || (declared is not null && count != declared.Length))
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (!reader.TryRead(out var tag, out var payload) || (declared is not null && !Fits(tag, payload, declared[i])))
            {
                return false;
            }
        }

        return reader.AtEnd;
    }

    /// <summary>Decodes and binds; false for anything <see cref="IsValid"/> would refuse.</summary>
    public static bool TryBind(ReadOnlySpan<byte> encoded, SqlParameterKind[] declared, NpgsqlParameterCollection target)
    {
        if (!IsValid(encoded, declared))
        {
            return false;
        }

        var reader = new SqlValueReader(encoded);
        reader.TryReadCount(out var count);
        for (var i = 0; i < count; i++)
        {
            reader.TryRead(out var tag, out var payload);
            target.Add(Create(tag, payload, declared[i]));
        }

        return true;
    }

    private static bool Fits(SqlValueTag tag, ReadOnlySpan<byte> payload, SqlParameterKind kind) => tag switch
    {
        // No nullability is declared in configuration, so NULL fits every parameter.
        SqlValueTag.Null => true,
        // MySQL reports no parameter types: the server converts whatever the plugin sends.
        _ when kind == SqlParameterKind.Any => true,
        SqlValueTag.Bool => kind == SqlParameterKind.Bool,
        SqlValueTag.Int64 => kind switch
        {
            SqlParameterKind.Int64 => true,
            SqlParameterKind.Int32 => BinaryPrimitives.ReadInt64LittleEndian(payload) is >= int.MinValue and <= int.MaxValue,
            SqlParameterKind.Int16 => BinaryPrimitives.ReadInt64LittleEndian(payload) is >= short.MinValue and <= short.MaxValue,
            _ => false,
        },
        SqlValueTag.Float64 => kind is SqlParameterKind.Float64 or SqlParameterKind.Float32,
        SqlValueTag.Text => kind == SqlParameterKind.Text,
        SqlValueTag.Bytes => kind == SqlParameterKind.Bytes,
        _ => false,
    };

    private static NpgsqlParameter Create(SqlValueTag tag, ReadOnlySpan<byte> payload, SqlParameterKind kind)
    {
        switch (tag)
        {
            case SqlValueTag.Null:
                return new NpgsqlParameter { Value = DBNull.Value };
            case SqlValueTag.Bool:
                return new NpgsqlParameter<bool> { NpgsqlDbType = NpgsqlDbType.Boolean, TypedValue = payload[0] == 1 };
            case SqlValueTag.Int64:
                var integer = BinaryPrimitives.ReadInt64LittleEndian(payload);
                return kind switch
                {
                    SqlParameterKind.Int16 => new NpgsqlParameter<short> { NpgsqlDbType = NpgsqlDbType.Smallint, TypedValue = (short)integer },
                    SqlParameterKind.Int32 => new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer, TypedValue = (int)integer },
                    _ => new NpgsqlParameter<long> { NpgsqlDbType = NpgsqlDbType.Bigint, TypedValue = integer },
                };
            case SqlValueTag.Float64:
                var real = BinaryPrimitives.ReadDoubleLittleEndian(payload);
                return kind == SqlParameterKind.Float32
                    ? new NpgsqlParameter<float> { NpgsqlDbType = NpgsqlDbType.Real, TypedValue = (float)real }
                    : new NpgsqlParameter<double> { NpgsqlDbType = NpgsqlDbType.Double, TypedValue = real };
            case SqlValueTag.Bytes:
                return new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = payload.ToArray() };
            default:
                // Sent untyped so the server parses it as the declared type: numeric, date, uuid, json… (docs/proxy-wasm.md, 'The SQL extension').
                return new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Unknown, TypedValue = Encoding.UTF8.GetString(payload) };
        }
    }
}
