using System.Globalization;

namespace Gateway.Hosting;

/// <summary>
/// Makes the runtime's epoll threads the workers' event loops. With inline completions a socket completion runs
/// on the epoll thread that saw it, which drains the connection's worker right there (see <c>WorkerLoop</c>)
/// instead of handing every completion to the thread pool: about two context switches per request instead of
/// ten or more, as nginx has. One epoll thread per worker. Nothing on a worker blocks, which is what inline
/// completions require. The runtime reads both settings when it creates its first socket, so this runs before
/// any; values the operator set in the environment win.
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
