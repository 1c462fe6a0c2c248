using System.Globalization;
using System.Text;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy;

/// <summary>
/// Counters of the listeners and of tunnels. They belong to the server, not to a config snapshot, so a reload does not
/// reset them. Updated with <see cref="Interlocked"/>.
/// </summary>
public sealed class EdgeMetrics
{
    private readonly string[] _listenerNames;
    private readonly long[] _refused;
    private readonly long[] _handshakeFailures;
    private readonly long[] _tunnelsClosed = new long[TunnelEnds.Count];
    private long _tunnelsActive;
    private long _tunnelsOpened;
    private long _tunnelBytesUp;
    private long _tunnelBytesDown;

    public EdgeMetrics(IReadOnlyList<string> listenerNames)
    {
        _listenerNames = [.. listenerNames];
        _refused = new long[_listenerNames.Length];
        _handshakeFailures = new long[_listenerNames.Length];
    }

    public void ConnectionRefused(int listener) => Interlocked.Increment(ref _refused[listener]);

    public void HandshakeFailed(int listener) => Interlocked.Increment(ref _handshakeFailures[listener]);

    public void TunnelOpened()
    {
        Interlocked.Increment(ref _tunnelsOpened);
        Interlocked.Increment(ref _tunnelsActive);
    }

    internal void TunnelClosed(TunnelEnd end, long bytesUp, long bytesDown)
    {
        Interlocked.Decrement(ref _tunnelsActive);
        Interlocked.Increment(ref _tunnelsClosed[(int)end]);
        Interlocked.Add(ref _tunnelBytesUp, bytesUp);
        Interlocked.Add(ref _tunnelBytesDown, bytesDown);
    }

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
        o.Append("# HELP gateway_tls_handshake_failures_total TLS handshakes that failed (not TLS, unknown SNI without a default, refused client certificate, timeout).\n# TYPE gateway_tls_handshake_failures_total counter\n");
        for (int i = 0; i < _listenerNames.Length; i++)
        {
            o.Append(inv, $"gateway_tls_handshake_failures_total{{listener=\"{_listenerNames[i]}\"}} {Interlocked.Read(ref _handshakeFailures[i])}\n");
        }
        o.Append("# HELP gateway_tunnels_active Upgraded connections (WebSocket and others) relaying now.\n# TYPE gateway_tunnels_active gauge\n");
        o.Append(inv, $"gateway_tunnels_active {Interlocked.Read(ref _tunnelsActive)}\n");
        o.Append("# HELP gateway_tunnels_opened_total Upgraded connections opened after an upstream 101.\n# TYPE gateway_tunnels_opened_total counter\n");
        o.Append(inv, $"gateway_tunnels_opened_total {Interlocked.Read(ref _tunnelsOpened)}\n");
        o.Append("# HELP gateway_tunnels_closed_total Upgraded connections closed, by the side or timer that ended them.\n# TYPE gateway_tunnels_closed_total counter\n");
        for (int e = 0; e < TunnelEnds.Count; e++)
        {
            o.Append(inv, $"gateway_tunnels_closed_total{{end=\"{TunnelEnds.Label((TunnelEnd)e)}\"}} {Interlocked.Read(ref _tunnelsClosed[e])}\n");
        }
        o.Append("# HELP gateway_tunnel_bytes_total Bytes relayed through tunnels, by direction.\n# TYPE gateway_tunnel_bytes_total counter\n");
        o.Append(inv, $"gateway_tunnel_bytes_total{{direction=\"upstream\"}} {Interlocked.Read(ref _tunnelBytesUp)}\n");
        o.Append(inv, $"gateway_tunnel_bytes_total{{direction=\"downstream\"}} {Interlocked.Read(ref _tunnelBytesDown)}\n");
    }
}
