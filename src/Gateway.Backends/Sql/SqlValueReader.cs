using System.Buffers.Binary;
using System.Text.Unicode;

namespace Gateway.Backends.Sql;

/// <summary>Reads the parameter list of a call: <c>u32 count</c> then tagged values, strictly.</summary>
internal ref struct SqlValueReader(ReadOnlySpan<byte> buffer)
{
    private ReadOnlySpan<byte> _rest = buffer;

    public readonly bool AtEnd => _rest.IsEmpty;

    public bool TryReadCount(out uint count)
    {
        // docs/proxy-wasm.md, 'The SQL extension': params_len = 0 means no parameters.
        if (_rest.IsEmpty)
        {
            count = 0;
            return true;
        }

        if (_rest.Length < 4)
        {
            count = 0;
            return false;
        }

        count = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        _rest = _rest[4..];
        return true;
    }

    public bool TryRead(out SqlValueTag tag, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        tag = SqlValueTag.Null;
        if (_rest.IsEmpty)
        {
            return false;
        }

        tag = (SqlValueTag)_rest[0];
        _rest = _rest[1..];
        int length;
        switch (tag)
        {
            case SqlValueTag.Null:
                return true;
            case SqlValueTag.Bool:
                length = 1;
                break;
            case SqlValueTag.Int64 or SqlValueTag.Float64:
                length = 8;
                break;
            case SqlValueTag.Text or SqlValueTag.Bytes:
                if (_rest.Length < 4)
                {
                    return false;
                }

                var declared = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
                _rest = _rest[4..];
                if (declared > (uint)_rest.Length)
                {
                    return false;
                }

                length = (int)declared;
                break;
            default:
                return false;
        }

        if (_rest.Length < length)
        {
            return false;
        }

        payload = _rest[..length];
        _rest = _rest[length..];
        // BOOL is 0x00 or 0x01 only; TEXT must be UTF-8 (docs/proxy-wasm.md, 'The SQL extension').
        return tag switch
        {
            SqlValueTag.Bool => payload[0] <= 1,
            SqlValueTag.Text => Utf8.IsValid(payload),
            _ => true,
        };
    }
}
