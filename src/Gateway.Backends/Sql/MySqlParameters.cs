using System.Buffers.Binary;
using System.Text;
using MySqlConnector;

namespace Gateway.Backends.Sql;

/// <summary>Binds a call's typed values as positional MySqlConnector parameters (never interpolated into SQL).</summary>
internal static class MySqlParameters
{
    public static bool TryBind(ReadOnlySpan<byte> encoded, SqlParameterKind[] declared, MySqlParameterCollection target)
    {
        if (!SqlParameters.IsValid(encoded, declared))
        {
            return false;
        }

        var reader = new SqlValueReader(encoded);
        reader.TryReadCount(out var count);
        for (var i = 0; i < count; i++)
        {
            reader.TryRead(out var tag, out var payload);
            target.Add(Create(tag, payload));
        }

        return true;
    }

    private static MySqlParameter Create(SqlValueTag tag, ReadOnlySpan<byte> payload) => tag switch
    {
        SqlValueTag.Bool => new MySqlParameter { MySqlDbType = MySqlDbType.Bool, Value = payload[0] == 1 },
        SqlValueTag.Int64 => new MySqlParameter { MySqlDbType = MySqlDbType.Int64, Value = BinaryPrimitives.ReadInt64LittleEndian(payload) },
        SqlValueTag.Float64 => new MySqlParameter { MySqlDbType = MySqlDbType.Double, Value = BinaryPrimitives.ReadDoubleLittleEndian(payload) },
        SqlValueTag.Bytes => new MySqlParameter { MySqlDbType = MySqlDbType.Blob, Value = payload.ToArray() },
        // Text is sent as a string literal; the server parses it as the column's type (DECIMAL, DATE, JSON…).
        SqlValueTag.Text => new MySqlParameter { MySqlDbType = MySqlDbType.VarChar, Value = Encoding.UTF8.GetString(payload) },
        _ => new MySqlParameter { Value = DBNull.Value },
    };
}
