using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Gateway.Backends.Sql;

/// <summary>
/// The fixed database-type mapping of docs/proxy-wasm.md, 'The SQL extension' for PostgreSQL. Columns arrive in PostgreSQL's text
/// format (the session runs with DateStyle=ISO, IntervalStyle=iso_8601, TimeZone=UTC), which already
/// is the canonical text the ABI asks for, except for the few rewrites done here.
/// </summary>
internal enum SqlColumnEncoding : byte
{
    Bool,
    Int64,
    Float64,
    Bytes,
    Text,
    /// <summary>timestamp: ISO 8601 needs 'T' between date and time.</summary>
    Timestamp,
    /// <summary>timestamptz: converted to UTC by the session, written with 'Z'.</summary>
    TimestampUtc,
    /// <summary>Arrays become JSON (numbers, booleans or strings by element type).</summary>
    NumberArray,
    BoolArray,
    TextArray,
}

internal static class SqlColumnEncodings
{
    // Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
    public static SqlColumnEncoding FromType(uint oid, string dataTypeName) => oid switch
    {
        16 => SqlColumnEncoding.Bool,
        20 or 21 or 23 or 26 => SqlColumnEncoding.Int64,
        700 or 701 => SqlColumnEncoding.Float64,
        17 => SqlColumnEncoding.Bytes,
        1114 => SqlColumnEncoding.Timestamp,
        1184 => SqlColumnEncoding.TimestampUtc,
        1005 or 1007 or 1016 or 1028 or 1021 or 1022 or 1231 => SqlColumnEncoding.NumberArray,
        1000 => SqlColumnEncoding.BoolArray,
        _ => dataTypeName.EndsWith("[]", StringComparison.Ordinal) ? SqlColumnEncoding.TextArray : SqlColumnEncoding.Text,
    };

    public static SqlValueTag Tag(SqlColumnEncoding encoding) => encoding switch
    {
        SqlColumnEncoding.Bool => SqlValueTag.Bool,
        SqlColumnEncoding.Int64 => SqlValueTag.Int64,
        SqlColumnEncoding.Float64 => SqlValueTag.Float64,
        SqlColumnEncoding.Bytes => SqlValueTag.Bytes,
        _ => SqlValueTag.Text,
    };

    /// <summary>Writes one non-null cell given as PostgreSQL's text output.</summary>
    public static void Write(SqlResultWriter writer, SqlColumnEncoding encoding, string text)
    {
        switch (encoding)
        {
            case SqlColumnEncoding.Bool:
                writer.WriteBool(text == "t");
                break;
            case SqlColumnEncoding.Int64:
                writer.WriteInt64(long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
                break;
            case SqlColumnEncoding.Float64:
                // PostgreSQL prints "Infinity", "-Infinity" and "NaN", the invariant culture's symbols.
                writer.WriteFloat64(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
                break;
            case SqlColumnEncoding.Bytes:
                // bytea_output = hex (the default since PostgreSQL 9.0): "\x0a0b…".
                writer.WriteBytes(Convert.FromHexString(text.AsSpan(2)));
                break;
            case SqlColumnEncoding.Timestamp:
                writer.WriteText(text.Replace(' ', 'T'));
                break;
            case SqlColumnEncoding.TimestampUtc:
                writer.WriteText(ToUtcIso8601(text));
                break;
            case SqlColumnEncoding.NumberArray or SqlColumnEncoding.BoolArray or SqlColumnEncoding.TextArray:
                writer.WriteText(ArrayToJson(text, encoding));
                break;
            default:
                writer.WriteText(text);
                break;
        }
    }

    private static string ToUtcIso8601(string text)
    {
        // "2024-05-01 12:34:56.789+00" with TimeZone=UTC; 'infinity' stays as it is.
        return text.EndsWith("+00", StringComparison.Ordinal)
            ? string.Concat(text.AsSpan(0, text.Length - 3).ToString().Replace(' ', 'T'), "Z")
            : text.Replace(' ', 'T');
    }

    /// <summary>PostgreSQL array output (<c>{1,2,NULL}</c>, <c>{{"a b",c}}</c>, optional <c>[0:1]=</c> bounds) to JSON.</summary>
    private static byte[] ArrayToJson(string text, SqlColumnEncoding encoding)
    {
        var output = new ArrayBufferWriter<byte>(text.Length + 16);
        using (var json = new Utf8JsonWriter(output))
        {
            var position = text.StartsWith('[') ? text.IndexOf('=') + 1 : 0;
            WriteArray(json, text, ref position, encoding);
        }

        return output.WrittenSpan.ToArray();
    }

    private static void WriteArray(Utf8JsonWriter json, string text, ref int position, SqlColumnEncoding encoding)
    {
        json.WriteStartArray();
        position++; // '{'
        while (position < text.Length && text[position] != '}')
        {
            if (text[position] == '{')
            {
                WriteArray(json, text, ref position, encoding);
            }
            else if (text[position] == '"')
            {
                json.WriteStringValue(ReadQuoted(text, ref position));
            }
            else
            {
                var end = position;
                while (end < text.Length && text[end] is not (',' or '}'))
                {
                    end++;
                }

                WriteBare(json, text.AsSpan(position, end - position), encoding);
                position = end;
            }

            if (position < text.Length && text[position] == ',')
            {
                position++;
            }
        }

        position++; // '}'
        json.WriteEndArray();
    }

    private static void WriteBare(Utf8JsonWriter json, ReadOnlySpan<char> token, SqlColumnEncoding encoding)
    {
        if (token.Equals("NULL", StringComparison.OrdinalIgnoreCase))
        {
            json.WriteNullValue();
        }
        else if (encoding == SqlColumnEncoding.BoolArray)
        {
            json.WriteBooleanValue(token is "t");
        }
        else if (encoding == SqlColumnEncoding.NumberArray && double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            // The exact decimal digits as PostgreSQL printed them (numeric keeps its precision).
            json.WriteRawValue(token, skipInputValidation: false);
        }
        else
        {
            json.WriteStringValue(token);
        }
    }

    private static string ReadQuoted(string text, ref int position)
    {
        var value = new System.Text.StringBuilder();
        position++; // opening quote
        while (position < text.Length && text[position] != '"')
        {
            if (text[position] == '\\' && position + 1 < text.Length)
            {
                position++;
            }

            value.Append(text[position]);
            position++;
        }

        position++; // closing quote
        return value.ToString();
    }
}
