using System.Data.Common;
using System.Globalization;
using MySqlConnector;

namespace Gateway.Backends.Sql;

/// <summary>Reads MySQL/MariaDB columns through the driver's typed getters and writes the result encoding.</summary>
internal sealed class MySqlRowEncoder : SqlRowEncoder
{
    private readonly MySqlColumnKind[] _kinds;
    private readonly string[] _names;

    public MySqlRowEncoder(MySqlDataReader reader)
    {
        var columns = reader.GetColumnSchema();
        _kinds = new MySqlColumnKind[columns.Count];
        _names = new string[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            _kinds[i] = MySqlColumnKinds.FromType(((MySqlDbColumn)columns[i]).ProviderType);
            _names[i] = columns[i].ColumnName;
        }
    }

    public override void WriteColumns(SqlResultWriter writer)
    {
        writer.WriteHeader(_names.Length);
        for (var i = 0; i < _names.Length; i++)
        {
            writer.WriteColumn(_names[i], MySqlColumnKinds.Tag(_kinds[i]));
        }
    }

    public override void WriteRow(DbDataReader reader, SqlResultWriter writer)
    {
        var mysql = (MySqlDataReader)reader;
        for (var i = 0; i < _kinds.Length; i++)
        {
            if (mysql.IsDBNull(i))
            {
                writer.WriteNull();
            }
            else
            {
                WriteCell(mysql, i, _kinds[i], writer);
            }
        }
    }

    private static void WriteCell(MySqlDataReader reader, int i, MySqlColumnKind kind, SqlResultWriter writer)
    {
        switch (kind)
        {
            case MySqlColumnKind.Null:
                writer.WriteNull();
                break;
            case MySqlColumnKind.Bool:
                writer.WriteBool(reader.GetBoolean(i));
                break;
            case MySqlColumnKind.Int64:
                writer.WriteInt64(reader.GetInt64(i));
                break;
            case MySqlColumnKind.UInt64:
                var unsigned = reader.GetUInt64(i);
                if (unsigned <= long.MaxValue)
                {
                    writer.WriteInt64((long)unsigned);
                }
                else
                {
                    writer.WriteText(unsigned.ToString(CultureInfo.InvariantCulture));
                }

                break;
            case MySqlColumnKind.Float32:
                // The shortest text that round-trips the FLOAT, read as a double: 1.1, not 1.100000023841858.
                writer.WriteFloat64(double.Parse(reader.GetFloat(i).ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
                break;
            case MySqlColumnKind.Float64:
                writer.WriteFloat64(reader.GetDouble(i));
                break;
            case MySqlColumnKind.Decimal:
                writer.WriteText(reader.GetMySqlDecimal(i).ToString());
                break;
            case MySqlColumnKind.Date or MySqlColumnKind.DateTime or MySqlColumnKind.Timestamp:
                writer.WriteText(MySqlTemporalText.Format(reader.GetMySqlDateTime(i), kind));
                break;
            case MySqlColumnKind.Time:
                writer.WriteText(MySqlTemporalText.Format(reader.GetTimeSpan(i)));
                break;
            case MySqlColumnKind.Bytes:
                writer.WriteBytes(reader.GetFieldValue<byte[]>(i));
                break;
            case MySqlColumnKind.Uuid:
                writer.WriteText(reader.GetGuid(i).ToString("D"));
                break;
            default:
                writer.WriteText(reader.GetString(i));
                break;
        }
    }
}
