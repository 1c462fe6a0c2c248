namespace Gateway.Plugins.Host;

/// <summary>One argument of a host import, as the module passed it (an i32, an i64 or an f64), held in 64 bits.</summary>
internal readonly struct ImportArg
{
    private readonly long _bits;

    private ImportArg(long bits)
    {
        _bits = bits;
    }

    public static implicit operator ImportArg(int value) => new(value);

    public static implicit operator ImportArg(long value) => new(value);

    public static ImportArg FromDouble(double value) => new(BitConverter.DoubleToInt64Bits(value));

    public int AsInt32() => (int)_bits;

    public long AsInt64() => _bits;

    public double AsDouble() => BitConverter.Int64BitsToDouble(_bits);
}
