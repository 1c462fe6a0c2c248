using System.Net;
using Gateway.Proxy.Upstream;

namespace Gateway.Proxy.Tests;

public sealed class ClusterTests
{
    private static Cluster Make(LoadBalancing lb, int endpoints, int failures = 2) => new(0, new ClusterOptions
    {
        Name = "c",
        Endpoints = [.. Enumerable.Range(0, endpoints).Select(i => new DnsEndPoint("127.0.0.1", 1000 + i))],
        LoadBalancing = lb,
        EjectionConsecutiveFailures = failures,
        EjectionCooldownMs = 60_000,
    });

    [Fact]
    public void RoundRobin_CyclesThroughEndpoints()
    {
        var cluster = Make(LoadBalancing.RoundRobin, 3);
        int cursor = 0;
        var picked = Enumerable.Range(0, 6).Select(_ => cluster.Pick(ref cursor, null).Index).ToArray();
        Assert.Equal([0, 1, 2, 0, 1, 2], picked);
    }

    [Fact]
    public void RoundRobin_CursorWrapsPastIntMaxValue_KeepsCycling()
    {
        var cluster = Make(LoadBalancing.RoundRobin, 3);
        // int.MaxValue - 1 is turn 0 of 3; the cursor goes negative after the next turn, and the cycle goes on unbroken.
        int owned = int.MaxValue - 1;
        int shared = int.MaxValue - 1;
        Assert.Equal([0, 1, 2, 0, 1, 2], Enumerable.Range(0, 6).Select(_ => cluster.Pick(ref owned, null).Index));
        Assert.Equal([0, 1, 2, 0, 1, 2], Enumerable.Range(0, 6).Select(_ => cluster.PickShared(ref shared, null).Index));
        Assert.True(owned < 0 && shared < 0);
    }

    [Fact]
    public void RoundRobin_SharedCursorPickedFromManyThreadsAtOnce_EveryEndpointGetsExactlyItsShare()
    {
        // As the plugins' callouts pick: one cursor, advanced by every worker. A turn taken twice (two threads read the
        // same cursor) or lost (a stale write moves it back) leaves some endpoint more picks than another.
        const int Endpoints = 4;
        const int Threads = 8;
        const int PicksPerThread = 200_000;
        var cluster = Make(LoadBalancing.RoundRobin, Endpoints);
        int cursor = 0;
        var counts = new int[Threads][];
        using var start = new Barrier(Threads);
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int thread = t;
            threads[t] = new Thread(() =>
            {
                var mine = new int[Endpoints];
                start.SignalAndWait();
                for (int i = 0; i < PicksPerThread; i++)
                {
                    mine[cluster.PickShared(ref cursor, null).Index]++;
                }
                counts[thread] = mine;
            });
            threads[t].Start();
        }
        foreach (Thread thread in threads)
        {
            thread.Join();
        }

        var picked = Enumerable.Range(0, Endpoints).Select(e => counts.Sum(mine => mine[e])).ToArray();
        Assert.Equal(Enumerable.Repeat(Threads * PicksPerThread / Endpoints, Endpoints), picked);
    }

    [Fact]
    public void LeastRequest_PrefersTheLeastBusyEndpoint()
    {
        var cluster = Make(LoadBalancing.LeastRequest, 3);
        cluster.Endpoints[0].BeginRequest();
        cluster.Endpoints[1].BeginRequest();
        int cursor = 0;
        Assert.Equal(2, cluster.Pick(ref cursor, null).Index);
    }

    [Fact]
    public void ConsecutiveFailures_EjectEndpointUntilCooldown()
    {
        var cluster = Make(LoadBalancing.RoundRobin, 2, failures: 2);
        long now = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
        var bad = cluster.Endpoints[0];
        Assert.False(bad.ReportFailure(2, 60_000, now));
        Assert.True(bad.ReportFailure(2, 60_000, now));
        Assert.True(bad.IsEjected(now));
        int cursor = 0;
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(1, cluster.Pick(ref cursor, null).Index);
        }
        Assert.False(bad.IsEjected(now + TimeSpan.FromMinutes(2).Ticks));
    }

    [Fact]
    public void SuccessBetweenFailures_ResetsTheCount()
    {
        var cluster = Make(LoadBalancing.RoundRobin, 1, failures: 2);
        long now = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
        var e = cluster.Endpoints[0];
        Assert.False(e.ReportFailure(2, 1000, now));
        e.ReportSuccess();
        Assert.False(e.ReportFailure(2, 1000, now));
        Assert.False(e.IsEjected(now));
    }

    [Fact]
    public void AllEjected_StillPicksAnEndpointRatherThanFailingEverything()
    {
        var cluster = Make(LoadBalancing.RoundRobin, 2, failures: 1);
        long now = Environment.TickCount64 * TimeSpan.TicksPerMillisecond;
        cluster.Endpoints[0].ReportFailure(1, 60_000, now);
        cluster.Endpoints[1].ReportFailure(1, 60_000, now);
        int cursor = 0;
        Assert.NotNull(cluster.Pick(ref cursor, null));
    }

    [Fact]
    public void Retry_AvoidsTheEndpointThatJustFailed()
    {
        var cluster = Make(LoadBalancing.RoundRobin, 2);
        int cursor = 0;
        var first = cluster.Pick(ref cursor, null);
        cursor = first.Index; // would pick the same one again without the exclusion
        Assert.NotEqual(first.Index, cluster.Pick(ref cursor, first).Index);
    }
}
