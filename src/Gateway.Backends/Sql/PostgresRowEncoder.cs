using System.Data.Common;
using Npgsql;

namespace Gateway.Backends.Sql;

/// <summary>Columns arrive as PostgreSQL's text output and are mapped by type OID.</summary>
internal sealed class PostgresRowEncoder : SqlRowEncoder
{
    private readonly SqlColumnEncoding[] _encodings;
    private readonly string[] _names;

    public PostgresRowEncoder(NpgsqlDataReader reader)
    {
        var count = reader.FieldCount;
        _encodings = new SqlColumnEncoding[count];
        _names = new string[count];
        for (var i = 0; i < count; i++)
        {
            _encodings[i] = SqlColumnEncodings.FromType(reader.GetDataTypeOID(i), reader.GetDataTypeName(i));
            _names[i] = reader.GetName(i);
        }
    }

    public override void WriteColumns(SqlResultWriter writer)
    {
        writer.WriteHeader(_names.Length);
        for (var i = 0; i < _names.Length; i++)
        {
            writer.WriteColumn(_names[i], SqlColumnEncodings.Tag(_encodings[i]));
        }
    }

    public override void WriteRow(DbDataReader reader, SqlResultWriter writer)
    {
        for (var i = 0; i < _encodings.Length; i++)
        {
            if (reader.IsDBNull(i))
            {
                writer.WriteNull();
            }
            else
            {
                SqlColumnEncodings.Write(writer, _encodings[i], reader.GetString(i));
            }
        }
    }
}
