using System.Globalization;
using System.Text;

namespace Gateway.Proxy;

/// <summary>
/// Counters of the listeners. They belong to the server, not to a config snapshot, so a reload does not
/// reset them. Updated with <see cref="Interlocked"/>.
/// </summary>
public sealed class EdgeMetrics
{
    private readonly string[] _listenerNames;
    private readonly long[] _refused;

    public EdgeMetrics(IReadOnlyList<string> listenerNames)
    {
        _listenerNames = [.. listenerNames];
        _refused = new long[_listenerNames.Length];
    }

    public void ConnectionRefused(int listener) => Interlocked.Increment(ref _refused[listener]);

    /// <summary>Refused connections of the admin port, counted by the admin server itself.</summary>
    public Func<long>? AdminRefused { get; set; }

    public void WritePrometheus(StringBuilder o)
    {
        var inv = CultureInfo.InvariantCulture;
        o.Append("# HELP gateway_listener_connections_refused_total Connections closed at accept because the listener was at its maxConnections.\n# TYPE gateway_listener_connections_refused_total counter\n");
        for (int i = 0; i < _listenerNames.Length; i++)
        {
            o.Append(inv, $"gateway_listener_connections_refused_total{{listener=\"{_listenerNames[i]}\"}} {Interlocked.Read(ref _refused[i])}\n");
        }
        if (AdminRefused is { } admin)
        {
            o.Append(inv, $"gateway_listener_connections_refused_total{{listener=\"admin\"}} {admin()}\n");
        }
    }
}
