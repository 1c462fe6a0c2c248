using Gateway.Http.Transport;

namespace Gateway.Plugins.Tests;

internal static class WorkerLoopExtensions
{
    /// <summary>Runs <paramref name="work"/> on the worker thread and returns its result to the test thread.</summary>
    public static Task<T> RunOnWorker<T>(this WorkerLoop loop, Func<Task<T>> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(async () =>
        {
            try
            {
                done.TrySetResult(await work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        });
        return done.Task;
    }
}
