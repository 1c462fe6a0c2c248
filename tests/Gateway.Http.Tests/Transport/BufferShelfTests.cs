using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// A worker's buffer shelf hands back, on the worker, the buffer given to it last; a buffer of another size, or a call
/// from another thread, goes through the shared pool and never reaches or leaves the shelf.
/// </summary>
public sealed class BufferShelfTests
{
    private const int Size = 4096;

    [Fact]
    public async Task OnTheWorker_AGivenBufferIsTakenAgain()
    {
        using var loop = new WorkerLoop(0);
        var shelf = new BufferShelf(Size);
        await loop.RunAsync(() =>
        {
            byte[] first = shelf.Take(100, loop);
            Assert.Equal(Size, first.Length);
            shelf.Give(first, loop);
            Assert.Same(first, shelf.Take(Size, loop));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task OffTheWorker_TheShelfIsNeitherTakenFromNorFilled()
    {
        using var loop = new WorkerLoop(0);
        var shelf = new BufferShelf(Size);
        byte[] kept = await loop.RunAsync(() =>
        {
            byte[] buffer = shelf.Take(Size, loop);
            shelf.Give(buffer, loop);
            return Task.FromResult(buffer);
        });

        byte[] elsewhere = shelf.Take(Size, loop);
        Assert.NotSame(kept, elsewhere);
        shelf.Give(elsewhere, loop);

        await loop.RunAsync(() =>
        {
            Assert.Same(kept, shelf.Take(Size, loop));
            Assert.NotSame(elsewhere, shelf.Take(Size, loop));
            return Task.CompletedTask;
        });
    }

    [Fact]
    public async Task ALargerBuffer_ComesFromTheSharedPool_AndDoesNotStayOnTheShelf()
    {
        using var loop = new WorkerLoop(0);
        var shelf = new BufferShelf(Size);
        await loop.RunAsync(() =>
        {
            byte[] larger = shelf.Take(Size + 1, loop);
            Assert.True(larger.Length > Size);
            shelf.Give(larger, loop);
            Assert.Equal(Size, shelf.Take(Size, loop).Length);
            return Task.CompletedTask;
        });
    }
}
