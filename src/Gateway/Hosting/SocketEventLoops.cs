using System.Globalization;

namespace Gateway.Hosting;

/// <summary>
/// Settings of the runtime's socket engine, which carries the sockets the workers' own epolls do not: accepts, TLS
/// and subscription Redis connections, SQL, plugin http_calls and the admin port. With inline completions a
/// completion runs on the engine's epoll thread that saw it (a TLS Redis reply is parsed there and its call's
/// continuation posted to its worker) instead of being handed to the thread pool first. Nothing run there blocks,
/// which is what inline completions require. One epoll thread per worker. The runtime reads both settings when it
/// creates its first socket, so this runs before any; values the operator set in the environment win.
/// </summary>
internal static class SocketEventLoops
{
    public static void UseOnePerWorker(int workers)
    {
        SetUnlessGiven("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        SetUnlessGiven("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", workers.ToString(CultureInfo.InvariantCulture));
    }

    private static void SetUnlessGiven(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)))
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
