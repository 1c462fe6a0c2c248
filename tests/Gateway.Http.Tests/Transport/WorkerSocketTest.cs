using System.Net;
using System.Net.Sockets;
using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// What the tests of a worker's sockets share: a worker, a loopback listener for the peer, and a way to connect a
/// <see cref="WorkerSocketStream"/> to an accepted peer and run a test as the worker.
/// </summary>
public abstract class WorkerSocketTest : IAsyncDisposable
{
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    protected WorkerSocketTest()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(8);
    }

    protected WorkerLoop Loop { get; } = new(0);

    protected static CancellationToken Aborted => TestContext.Current.CancellationToken;

    protected DnsEndPoint Endpoint => new("127.0.0.1", ((IPEndPoint)_listener.LocalEndPoint!).Port);

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        Loop.Dispose();
        GC.SuppressFinalize(this);
        await Task.CompletedTask;
    }

    /// <summary>Connects a stream on the worker to an accepted peer and runs <paramref name="test"/> there.</summary>
    protected async Task OnWorker(Func<WorkerSocketStream, Socket, Task> test) => await RunOnWorkerAsync(async () =>
    {
        using Socket peer = await AcceptAfter(out Task<WorkerSocketStream> connecting, Endpoint);
        using WorkerSocketStream stream = await connecting;
        await test(stream, peer);
        return 0;
    });

    protected Task<Socket> AcceptAfter(out Task<WorkerSocketStream> connecting, DnsEndPoint endpoint)
    {
        connecting = WorkerSocketStream.ConnectAsync(endpoint, Loop, Aborted);
        return _listener.AcceptAsync(Aborted).AsTask();
    }

    protected async Task<T> RunOnWorkerAsync<T>(Func<Task<T>> work)
    {
        T result = default!;
        await Loop.RunAsync(async () => result = await work()).WaitAsync(Patience * 3, Aborted);
        return result;
    }
}
