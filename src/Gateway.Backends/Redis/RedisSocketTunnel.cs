using System.Net;
using Gateway.Http.Transport;
using RESPite.Transports;
using StackExchange.Redis;
using StackExchange.Redis.Configuration;

// The client's transport seam is marked experimental (SER009): the package version is pinned in
// Directory.Packages.props, and the Redis suites exercise this transport against real servers on every run.
#pragma warning disable SER009

namespace Gateway.Backends.Redis;

/// <summary>
/// Gives the client a <see cref="RedisSocketTransport"/> for every plain-TCP command connection, each on the next of
/// <paramref name="homes"/>, so commands go out from the worker that issues them and replies come in on a worker's
/// own loop. TLS connections and the subscription connection keep the client's own socket path (null).
/// </summary>
internal sealed class RedisSocketTunnel(int connectTimeoutMs, SocketHomes homes) : Tunnel
{
    public override async ValueTask<DuplexTransport?> ConnectTransportAsync(
        EndPoint endpoint, ConnectionType connectionType, TlsOptions tls, CancellationToken cancellationToken)
    {
        if (tls.IsEnabled || connectionType != ConnectionType.Interactive)
        {
            return null;
        }

        return await RedisSocketTransport.ConnectAsync(endpoint, homes.Next(), connectTimeoutMs, cancellationToken).ConfigureAwait(false);
    }
}
