using Gateway.Http.Messages;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Upstream;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Server;

/// <summary>
/// UP-5: after a 101 the connection pair relays opaque bytes both ways until either side closes or the tunnel
/// idles past limits.tunnelIdleTimeoutMs; neither connection carries HTTP again.
/// </summary>
internal static class UpgradeRelay
{
    public static async ValueTask RunAsync(
        ClientConnection client, ExchangeState s, UpstreamPool pool, UpstreamConnection upstream, string protocol, ILogger logger)
    {
        UpgradeRequest.AddResponseFields(s.Response, protocol);
        HeadWriter.WriteResponse(client.Output, s.Response, BodyFraming.None, 0, close: false);
        s.ResponseStarted = true;
        EdgeMetrics metrics = client.Server.EdgeMetrics;
        var tunnel = new Tunnel();
        TunnelEnd end = TunnelEnd.ClientClosed;
        bool opened = false;
        try
        {
            if (await client.FlushAsync())
            {
                opened = true;
                metrics.TunnelOpened();
                end = await tunnel.RunAsync(client.Input, client.Output, upstream.Input, upstream.Output, s.Snapshot.Limits.TunnelIdleTimeoutMs);
            }
        }
        finally
        {
            pool.Release(upstream, reusable: false);
            if (opened)
            {
                metrics.TunnelClosed(end, tunnel.BytesUpstream, tunnel.BytesDownstream);
                s.TunnelRequestBytes = tunnel.BytesUpstream;
                s.LocalResponseBytes = tunnel.BytesDownstream;
            }
        }
        if (end == TunnelEnd.IdleTimeout)
        {
            EdgeLog.TunnelIdleTimeout(logger, s.Route!.Name, upstream.Endpoint.HostHeader, s.RequestId);
        }
    }
}
