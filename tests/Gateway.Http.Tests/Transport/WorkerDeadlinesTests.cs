using System.Diagnostics;
using Gateway.Http.Transport;

namespace Gateway.Http.Tests.Transport;

/// <summary>
/// Deadlines on a worker's own clock: they fire on the worker's thread, never early, once per arm; a disarm or a re-arm
/// takes effect at once; an idle worker wakes for them, and so does a worker whose queue a pool thread runs meanwhile.
/// </summary>
public sealed class WorkerDeadlinesTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Armed_FiresOnTheWorkersThread_NotBeforeItsDueTime()
    {
        using var loop = new WorkerLoop(0);
        var fired = new TaskCompletionSource<(string? Thread, bool AsWorker, TimeSpan After)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        var deadline = new Deadline(loop.Deadlines, _ => fired.TrySetResult((Thread.CurrentThread.Name, loop.IsCurrent, clock.Elapsed)), null);

        // A due time counts from the start of the loop turn that arms it (docs/design.md, 'Workers'), which comes after
        // the post: the clock starts before it.
        clock.Start();
        await OnWorker(loop, () => deadline.Arm(200));
        var (thread, asWorker, after) = await fired.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.Equal("worker 0", thread);
        Assert.True(asWorker);
        Assert.True(after >= TimeSpan.FromMilliseconds(200), $"fired after {after.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Disarmed_NeverFires()
    {
        using var loop = new WorkerLoop(0);
        int fired = 0;
        var deadline = new Deadline(loop.Deadlines, _ => fired++, null);
        var later = new Deadline(loop.Deadlines, _ => { }, null);

        await OnWorker(loop, () =>
        {
            deadline.Arm(50);
            later.Arm(100);
            deadline.Disarm();
        });
        await Task.Delay(400, TestContext.Current.CancellationToken);

        Assert.Equal(0, await OnWorker(loop, () => fired));
    }

    [Fact]
    public async Task Rearmed_FiresAtTheNewTimeOnly()
    {
        using var loop = new WorkerLoop(0);
        var clock = new Stopwatch();
        var times = new List<TimeSpan>();
        var deadline = new Deadline(loop.Deadlines, _ => times.Add(clock.Elapsed), null);

        clock.Start();
        await OnWorker(loop, () =>
        {
            deadline.Arm(100);
            deadline.Arm(300);
        });
        await Task.Delay(700, TestContext.Current.CancellationToken);

        List<TimeSpan> fired = await OnWorker(loop, () => times.ToList());
        TimeSpan only = Assert.Single(fired);
        Assert.True(only >= TimeSpan.FromMilliseconds(300), $"fired after {only.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task CallbackThatRearmsItsOwnDeadline_FiresAgain()
    {
        using var loop = new WorkerLoop(0);
        var thrice = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int fired = 0;
        Deadline? deadline = null;
        deadline = new Deadline(loop.Deadlines, _ =>
        {
            if (++fired < 3)
            {
                deadline!.Arm(20);
            }
            else
            {
                thrice.SetResult();
            }
        }, null);

        await OnWorker(loop, () => deadline.Arm(20));
        await thrice.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);

        Assert.Equal(3, await OnWorker(loop, () => fired));
    }

    [Fact]
    public async Task ManyDeadlines_SomeRemovedFromTheMiddle_TheRestFireOnceEach()
    {
        using var loop = new WorkerLoop(0);
        const int Count = 100;
        var firings = new int[Count];
        var deadlines = new Deadline[Count];
        for (int i = 0; i < Count; i++)
        {
            deadlines[i] = new Deadline(loop.Deadlines, s => firings[(int)s!]++, i);
        }

        int left = await OnWorker(loop, () =>
        {
            for (int i = 0; i < Count; i++)
            {
                deadlines[i].Arm(100 + i);
            }
            for (int i = 1; i < Count; i += 3)
            {
                deadlines[i].Dispose();
            }
            return loop.Deadlines.Count;
        });
        await Task.Delay(600, TestContext.Current.CancellationToken);

        int[] seen = await OnWorker(loop, () => firings.ToArray());
        Assert.Equal(Count - 33, left);
        for (int i = 0; i < Count; i++)
        {
            Assert.Equal(i % 3 == 1 ? 0 : 1, seen[i]);
        }
    }

    [Fact]
    public async Task ArmedOffTheWorker_Throws()
    {
        using var loop = new WorkerLoop(0);
        var deadline = new Deadline(loop.Deadlines, _ => { }, null);

        await Task.Yield();

        Assert.Throws<InvalidOperationException>(() => deadline.Arm(100));
    }

    [Fact]
    public async Task IdleWorker_WakesForItsDeadline_WithNoOtherEvent()
    {
        using var loop = new WorkerLoop(0);
        var fired = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        var deadline = new Deadline(loop.Deadlines, _ => fired.TrySetResult(clock.Elapsed), null);

        var armedOn = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Posted from a thread that never runs the worker: the worker's own thread arms, then sleeps in its poll.
        var poster = new Thread(() => loop.Post(() =>
        {
            deadline.Arm(300);
            armedOn.SetResult(Thread.CurrentThread.Name);
        }));
        clock.Start();
        poster.Start();
        TimeSpan after = await fired.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.Equal("worker 0", await armedOn.Task);
        Assert.InRange(after.TotalMilliseconds, 300, 2_000);
    }

    [Fact]
    public async Task ArmedByAPoolThreadRunningTheSleepingWorker_WakesItInTime()
    {
        using var loop = new WorkerLoop(0);
        var far = new Deadline(loop.Deadlines, _ => { }, null);
        var fired = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = new Stopwatch();
        var near = new Deadline(loop.Deadlines, _ => fired.TrySetResult(clock.Elapsed), null);
        await OnWorker(loop, () => far.Arm(30_000));
        // Long enough for the worker's thread to sleep in its poll, until the far deadline.
        await Task.Delay(200, TestContext.Current.CancellationToken);

        var borrowed = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        clock.Start();
        await Task.Run(() => loop.Post(() =>
        {
            borrowed.SetResult(loop.IsCurrent && Thread.CurrentThread.IsThreadPoolThread);
            near.Arm(100);
        }), TestContext.Current.CancellationToken);
        TimeSpan after = await fired.Task.WaitAsync(Patience, TestContext.Current.CancellationToken);

        Assert.True(await borrowed.Task, "the post did not run on the pool thread as the worker");
        Assert.InRange(after.TotalMilliseconds, 100, 2_000);
    }

    private static Task OnWorker(WorkerLoop loop, Action action) => OnWorker(loop, () =>
    {
        action();
        return true;
    });

    private static Task<T> OnWorker<T>(WorkerLoop loop, Func<T> work) => loop.RunAsync(() => Task.FromResult(work()));
}
