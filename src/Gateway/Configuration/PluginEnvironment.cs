namespace Gateway.Configuration;

/// <summary>
/// Config <c>plugins.&lt;name&gt;.environment</c>: the variables the guest reads through WASI <c>environ_get</c>;
/// the gateway's own environment is never passed on. Compares by content, so a reload that keeps the map keeps the VM.
/// </summary>
public sealed class PluginEnvironment : Dictionary<string, string>
{
    public PluginEnvironment()
        : base(StringComparer.Ordinal)
    {
    }

    public override bool Equals(object? obj) => obj is PluginEnvironment other && ConfigEquality.Maps(this, other);

    public override int GetHashCode() => Count;
}
