using System.Buffers.Binary;
using System.Text;

namespace Gateway.Backends.Tests;

/// <summary>The plugin side of docs/proxy-wasm.md, 'The SQL extension', written from the spec independently of the product code.</summary>
internal static class SqlWire
{
    public static byte[] Params(params object?[] values)
    {
        var output = new List<byte>();
        output.AddRange(U32((uint)values.Length));
        foreach (var value in values)
        {
            switch (value)
            {
                case null:
                    output.Add(0x00);
                    break;
                case bool b:
                    output.Add(0x01);
                    output.Add(b ? (byte)1 : (byte)0);
                    break;
                case long l:
                    output.Add(0x02);
                    output.AddRange(BitConverter.GetBytes(l));
                    break;
                case int i:
                    output.Add(0x02);
                    output.AddRange(BitConverter.GetBytes((long)i));
                    break;
                case double d:
                    output.Add(0x03);
                    output.AddRange(BitConverter.GetBytes(d));
                    break;
                case string s:
                    output.Add(0x04);
                    output.AddRange(U32((uint)Encoding.UTF8.GetByteCount(s)));
                    output.AddRange(Encoding.UTF8.GetBytes(s));
                    break;
                case byte[] bytes:
                    output.Add(0x05);
                    output.AddRange(U32((uint)bytes.Length));
                    output.AddRange(bytes);
                    break;
                default:
                    throw new ArgumentException(value.GetType().Name);
            }
        }

        return output.ToArray();
    }

    private static byte[] U32(uint value) => BitConverter.GetBytes(value);

    public sealed record Column(string Name, byte Tag);

    public sealed record ResultSet(uint Flags, ulong RowsAffected, Column[] Columns, object?[][] Rows)
    {
        public bool Truncated => (Flags & 1) != 0;
    }

    public static ResultSet Decode(byte[] body)
    {
        var position = 0;
        uint U32() { var v = BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(position)); position += 4; return v; }
        var version = U32();
        Assert.Equal(1u, version);
        var flags = U32();
        var rowsAffected = BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(position));
        position += 8;
        var columnCount = (int)U32();
        var rowCount = (int)U32();
        var columns = new Column[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            var nameLength = (int)U32();
            var name = Encoding.UTF8.GetString(body, position, nameLength);
            position += nameLength;
            columns[i] = new Column(name, body[position++]);
        }

        var rows = new object?[rowCount][];
        for (var r = 0; r < rowCount; r++)
        {
            rows[r] = new object?[columnCount];
            for (var c = 0; c < columnCount; c++)
            {
                var tag = body[position++];
                Assert.True(tag == 0 || columns[c].Tag == 0 || tag == columns[c].Tag, $"cell tag {tag} in column {columns[c].Name} of tag {columns[c].Tag}");
                switch (tag)
                {
                    case 0x00:
                        rows[r][c] = null;
                        break;
                    case 0x01:
                        Assert.True(body[position] <= 1);
                        rows[r][c] = body[position++] == 1;
                        break;
                    case 0x02:
                        rows[r][c] = BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(position));
                        position += 8;
                        break;
                    case 0x03:
                        rows[r][c] = BinaryPrimitives.ReadDoubleLittleEndian(body.AsSpan(position));
                        position += 8;
                        break;
                    case 0x04:
                        var textLength = (int)U32();
                        rows[r][c] = Encoding.UTF8.GetString(body, position, textLength);
                        position += textLength;
                        break;
                    case 0x05:
                        var bytesLength = (int)U32();
                        rows[r][c] = body.AsSpan(position, bytesLength).ToArray();
                        position += bytesLength;
                        break;
                    default:
                        Assert.Fail($"invalid tag {tag}");
                        break;
                }
            }
        }

        Assert.Equal(body.Length, position);
        return new ResultSet(flags, rowsAffected, columns, rows);
    }
}
