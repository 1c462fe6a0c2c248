using System.Globalization;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>
/// One run of the harness: starts the shared services, builds the targets, runs the
/// interleaved rounds (every target once per round, the order rotated by one each round), the idle
/// connection test and the floors, and stops everything it started.
/// </summary>
public sealed partial class BenchSession : IDisposable
{
    private const int ProxyCpu = 1;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(10);
    private readonly BenchPlan _plan;
    private readonly string _repoRoot;
    private readonly string _scratch;
    private readonly ApiKeyRange _keys = new();
    private ChildProcess? _upstream;
    private RedisService? _redis;
    private PostgresService? _postgres;
    private string? _redisProblem;
    private string? _postgresProblem;
    private MariaDbService? _mariadb;
    private string? _mariadbProblem;
    private int _upstreamPort;

    private readonly string[]? _only;

    public BenchSession(BenchPlan plan, string repoRoot, string[]? only = null)
    {
        _only = only;
        _plan = plan;
        _repoRoot = repoRoot;
        _scratch = Path.Combine(Path.GetTempPath(), "gateway-perf-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(_scratch);
    }

    public List<BenchTarget> Targets { get; } = [];

    public List<TargetRound> Rounds { get; } = [];

    public List<FloorResult> Floors { get; } = [];

    public List<IdleMemoryResult> IdleMemory { get; } = [];

    /// <summary>The gateway against the nginx peer in alternating phases (<see cref="HeadToHead"/>); null when either did not run.</summary>
    public HeadToHeadResult? NginxHeadToHead { get; private set; }

    /// <summary>System calls by kind and a CPU profile of the gateway and the nginx peer (<see cref="ProfileStage"/>).</summary>
    public List<TargetProfile> Profiles { get; } = [];

    /// <summary>Instructions per response of the gateway and the nginx peer under callgrind (<see cref="InstructionCensus"/>).</summary>
    public List<InstructionCensusResult> Instructions { get; } = [];

    public void Run(TextWriter progress)
    {
        StartServices(progress);
        BuildTargets();
        if (_only is not null)
        {
            Targets.RemoveAll(t => Array.IndexOf(_only, t.Name) < 0);
        }
        foreach (var target in Targets)
        {
            if (target.NotRunReason is not null)
            {
                progress.WriteLine($"  {target.Name}: not run: {target.NotRunReason}");
            }
        }
        for (var round = 1; round <= _plan.Rounds; round++)
        {
            progress.WriteLine($"round {round}/{_plan.Rounds}");
            var roundStarted = MonotonicClock.NowNs;
            MeasureFloors(round);
            // Rotated by one each round: no target always runs right after the same one. In a fixed order the gateway
            // always followed `direct`, and the pass-through plugin, half as many instructions again per request, matched
            // or beat the plain gateway's throughput in five of the ten full runs before the rotation.
            for (var k = 0; k < Targets.Count; k++)
            {
                var target = Targets[(k + round - 1) % Targets.Count];
                if (target.NotRunReason is not null)
                {
                    continue;
                }
                var result = RunRound(target, round);
                Rounds.Add(result);
                progress.WriteLine($"  [{(MonotonicClock.NowNs - roundStarted) / 1e9:F1} s] " + Describe(result));
                // A target that cannot answer at all in round 1 will not in round 2: say why once and move on.
                if (round == 1 && result.Error is not null && result.Phases.Count == 0)
                {
                    target.NotRunReason = result.Error;
                }
            }
        }
        if (Runnable("gateway") is { } gateway && Runnable("nginx") is { } nginx)
        {
            progress.WriteLine("head to head: gateway and nginx");
            NginxHeadToHead = HeadToHead.Run(gateway, nginx, _plan, _keys, progress);
            if (NginxHeadToHead.Error is not null)
            {
                progress.WriteLine($"  head to head: {NginxHeadToHead.Error}");
            }
        }
        foreach (var target in Targets)
        {
            if (target.Launch is not null && target.Baseline == "direct" && target.NotRunReason is null)
            {
                var idle = MeasureIdleConnections(target);
                IdleMemory.Add(idle);
                progress.WriteLine(idle.Error is null
                    ? $"  idle {target.Name}: {idle.Held} connections, {idle.BytesPerConnection / 1024:F2} KiB each"
                    : $"  idle {target.Name}: {idle.Error}");
            }
        }
        foreach (var target in Targets)
        {
            if (Array.IndexOf(ProfileStage.Profiled, target.Name) >= 0 && target.NotRunReason is null)
            {
                Profiles.Add(ProfileStage.Run(target, _plan, _keys, _scratch, SymbolFolder(_repoRoot), progress));
                Instructions.Add(InstructionCensus.Measure(target, _keys, _scratch, SymbolFolder(_repoRoot), progress));
            }
        }
    }

    private BenchTarget? Runnable(string name) => Targets.Find(t => t.Name == name && t.NotRunReason is null);

    private static string Describe(TargetRound round)
    {
        if (round.Error is not null && round.Phases.Count == 0)
        {
            return $"{round.Target}: {round.Error}";
        }
        var parts = new List<string> { round.Target };
        foreach (var phase in round.Phases)
        {
            var load = phase.Load;
            var text = phase.Phase.StartsWith("sat", StringComparison.Ordinal)
                ? $"{phase.Phase} {load.AchievedRate:F0}/s"
                : $"{phase.Phase} p50 {load.Latency.P50:F0}µs p99 {load.Latency.P99:F0}µs";
            parts.Add(load.Failed ? text + " FAILED (" + load.FailureReason + ")" : text);
        }
        return string.Join(", ", parts);
    }

    private void StartServices(TextWriter progress)
    {
        _upstreamPort = FreePort.Next();
        _upstream = StartNginx("upstream", 0, NginxConfig.Upstream(_scratch, _upstreamPort));
        WaitUntilAnswering(new RequestTemplate("127.0.0.1", _upstreamPort, "/", []), _upstream)
            .ThrowIfNull("the upstream nginx did not answer: " + _upstream.Tail());
        try
        {
            _redis = RedisService.Start(_scratch);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            _redisProblem = "Redis: " + e.Message;
            progress.WriteLine("  " + _redisProblem);
        }
        try
        {
            progress.WriteLine($"  seeding PostgreSQL with {KeysNeeded(_plan)} API keys");
            _postgres = PostgresService.Start(_scratch, KeysNeeded(_plan));
        }
        catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException or System.ComponentModel.Win32Exception)
        {
            _postgresProblem = "PostgreSQL: " + e.Message;
            progress.WriteLine("  " + _postgresProblem);
        }
        if (_only is null || Array.Exists(_only, name => name.Contains("mariadb", StringComparison.Ordinal)))
        {
            try
            {
                progress.WriteLine($"  seeding MariaDB with {KeysNeeded(_plan)} API keys");
                _mariadb = MariaDbService.Start(_scratch, KeysNeeded(_plan));
            }
            catch (InvalidOperationException e)
            {
                _mariadbProblem = "MariaDB: " + e.Message;
                progress.WriteLine("  " + _mariadbProblem);
            }
        }
        else
        {
            _mariadbProblem = "not selected";
        }
    }

    private ChildProcess StartNginx(string name, int cpu, string config, Func<string, IReadOnlyList<string>>? under = null)
    {
        var path = Path.Combine(_scratch, name + ".nginx.conf");
        File.WriteAllText(path, config);
        return ChildProcess.Start(name, cpu, "nginx", ["-c", path, "-p", _scratch], _scratch, under: under);
    }

    /// <summary>Where the gateway binary's symbols are: beside a PERF_GATEWAY binary that has them, else artifacts/symbols.</summary>
    private static string SymbolFolder(string repoRoot)
    {
        var beside = Path.GetDirectoryName(GatewayBinary(repoRoot))!;
        return File.Exists(Path.Combine(beside, "gateway.dbg")) ? beside : Path.Combine(repoRoot, "artifacts", "symbols");
    }

    /// <summary>The soft open-file limit this process (and so each child) runs with; run.sh raises it to the hard limit.</summary>
    private static long OpenFileLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.TryParse(fields[0], out var limit) ? limit : 1024;
            }
        }
        return 1024;
    }

    private static string? OnPath(string program) =>
        ExternalCommand.Run("sh", ["-c", "command -v " + program]).ExitCode == 0 ? null : program + " is not installed";

    // One connection cannot exceed ~20k req/s on loopback: enough fresh keys for a closed one-connection phase.
    private static long OneConnectionKeys(BenchPlan plan) => (long)(20_000 * plan.Phase.TotalSeconds);

    /// <summary>Fresh keys the miss scenario can consume in a run: seeded up front so every miss is a valid key.</summary>
    private static long KeysNeeded(BenchPlan plan) => plan.Rounds * (OneConnectionKeys(plan) +
        (long)((BenchPlan.ModerateRate + BenchPlan.HighRate) * plan.Phase.TotalSeconds + BenchPlan.ModerateRate * plan.WarmUp.TotalSeconds) + 100) + 10_000;

    private void MeasureFloors(int round)
    {
        if (_redis is not null)
        {
            Floors.Add(Floor("redis PING", round, () => _redis.MeasureRoundTrips(_plan.FloorSamples)));
        }
        if (_postgres is not null)
        {
            Floors.Add(Floor("postgresql find_api_key", round, () => _postgres.MeasureRoundTrips(_plan.FloorSamples / 4)));
        }
        if (_mariadb is not null)
        {
            Floors.Add(Floor("mariadb find_api_key", round, () => _mariadb.MeasureRoundTrips(_plan.FloorSamples / 4)));
        }
    }

    private static FloorResult Floor(string name, int round, Func<LatencySummary> measure)
    {
        try
        {
            return new FloorResult(name, round, measure(), null);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or Npgsql.NpgsqlException or MySqlConnector.MySqlException or IOException)
        {
            return new FloorResult(name, round, new LatencySummary(0, 0, 0, 0, 0, 0, 0), e.Message);
        }
    }

    private TargetRound RunRound(BenchTarget target, int round)
    {
        var result = new TargetRound { Target = target.Name, Round = round };
        ChildProcess? process = null;
        int port;
        int pid;
        try
        {
            if (target.Launch is null)
            {
                port = _upstreamPort;
                pid = _upstream!.Pid;
            }
            else
            {
                port = FreePort.Next();
                var startedNs = MonotonicClock.NowNs;
                process = target.Launch(port);
                var answeredNs = WaitUntilAnswering(target.Request(port, _keys, 1), process);
                if (answeredNs is null)
                {
                    result.Error = process.ExitCode is int code
                        ? $"exited with code {code} before answering: {process.Tail()}"
                        : $"no proxied 200 within {StartupTimeout.TotalSeconds:F0} s: {process.Tail()}";
                    return result;
                }
                result.StartupMs = (answeredNs.Value - startedNs) / 1e6;
                pid = process.Pid;
            }
            result.RssStartKiB = ProcessProbe.RssKiB(pid);
            // A gateway's heap counters are read around the saturation phases only: no admin request near a latency phase.
            var metricsPort = process?.MetricsPort;
            // Warm-up: JIT tiers, pools and caches fill; not recorded.
            if (target.FreshApiKeyPerRequest)
            {
                new OpenLoopRun(target.Request(port, _keys, (long)(BenchPlan.ModerateRate * _plan.WarmUp.TotalSeconds) + 10),
                    BenchPlan.ModerateRate, _plan.WarmUp, BenchPlan.OpenLoopConnections).Run();
            }
            else
            {
                new ClosedLoopRun(target.Request(port, _keys, 0), _plan.WarmUp, 16).Run();
            }
            result.RssWarmKiB = ProcessProbe.RssKiB(pid);

            Measure(result, Phases.OneConnection, pid, null, () =>
                new ClosedLoopRun(target.Request(port, _keys, OneConnectionKeys(_plan)), _plan.Phase, 1).Run());
            // The plugin-less gateway always gets the moderate rate: it is the baseline of the api_key miss goal.
            if (_plan.MeasureModerateRate || target.FreshApiKeyPerRequest || target.Name == "gateway")
            {
                Measure(result, Phases.Moderate, pid, null, () => new OpenLoopRun(
                    target.Request(port, _keys, (long)(BenchPlan.ModerateRate * _plan.Phase.TotalSeconds) + 10),
                    BenchPlan.ModerateRate, _plan.Phase, BenchPlan.OpenLoopConnections).Run());
            }
            Measure(result, Phases.High, pid, null, () => new OpenLoopRun(
                target.Request(port, _keys, (long)(BenchPlan.HighRate * _plan.Phase.TotalSeconds) + 10),
                BenchPlan.HighRate, _plan.Phase, BenchPlan.OpenLoopConnections).Run());
            if (target.Saturate)
            {
                Measure(result, Phases.Saturation64, pid, metricsPort, () =>
                    new SaturationRun(target.Request(port, _keys, 0), _plan.Phase, 64).Run());
                if (_plan.MeasureSaturation256)
                {
                    Measure(result, Phases.Saturation256, pid, metricsPort, () =>
                        new SaturationRun(target.Request(port, _keys, 0), _plan.Phase, 256).Run());
                }
            }
            result.RssPeakKiB = ProcessProbe.PeakRssKiB(pid);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            result.Error = e.Message;
        }
        finally
        {
            process?.Dispose();
        }
        return result;
    }

    private static void Measure(TargetRound result, string phase, int pid, int? metricsPort, Func<LoadResult> run) =>
        result.Phases.Add(MeasurePhase(phase, pid, metricsPort, run));

    /// <summary>
    /// Runs one phase and measures the target's CPU time, context switches and, when <paramref name="metricsPort"/> is
    /// given (a gateway's saturation phases), its heap counters, each read before and after the phase.
    /// </summary>
    internal static PhaseResult MeasurePhase(string phase, int pid, int? metricsPort, Func<LoadResult> run)
    {
        var heapBefore = metricsPort is int before ? HeapCounters.Read(before) : null;
        var cpuBefore = ProcessProbe.Cpu(pid);
        var switchesBefore = ProcessProbe.ContextSwitches(pid);
        var load = run();
        var cpu = ProcessProbe.Cpu(pid) - cpuBefore;
        var switches = ProcessProbe.ContextSwitches(pid) - switchesBefore;
        var heapAfter = metricsPort is int after ? HeapCounters.Read(after) : null;
        if (load.Completed == 0)
        {
            return new PhaseResult(phase, load, null, null);
        }
        double responses = load.Completed;
        return new PhaseResult(phase, load, cpu.TotalMicroseconds / responses, switches / responses,
            cpu.UserMicroseconds / responses, cpu.KernelMicroseconds / responses,
            heapBefore is not null && heapAfter is not null ? heapAfter.Since(heapBefore, load.Completed, load.ElapsedSeconds) : null);
    }

    /// <summary>
    /// Polls with real requests until one is answered 2xx; returns the instant it was, or null after
    /// <paramref name="timeout"/> (10 s unless given).
    /// </summary>
    internal static long? WaitUntilAnswering(RequestTemplate request, ChildProcess process, TimeSpan? timeout = null)
    {
        var deadline = MonotonicClock.NowNs + (long)((timeout ?? StartupTimeout).TotalSeconds * 1e9);
        while (MonotonicClock.NowNs < deadline && !process.HasExited)
        {
            using var connection = new LoadConnection(request, receiveTimeoutMs: 2_000);
            try
            {
                if (connection.Exchange(0) is >= 200 and < 300)
                {
                    return MonotonicClock.NowNs;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
            {
            }
            Thread.Sleep(1);
        }
        return null;
    }

    /// <summary>
    /// Starts <paramref name="target"/> on a free port and, once it answers, warms it up as a round does; the stages
    /// after the rounds begin each target this way. The process comes back either way, for its output when it never
    /// answered.
    /// </summary>
    internal static ChildProcess StartWarmedUp(BenchTarget target, ApiKeyRange keys, BenchPlan plan, long reserve,
        out RequestTemplate request, out bool answered)
    {
        var port = FreePort.Next();
        var process = target.Launch!(port);
        request = target.Request(port, keys, reserve);
        answered = WaitUntilAnswering(request, process) is not null;
        if (answered)
        {
            new ClosedLoopRun(request, plan.WarmUp, 16).Run();
        }
        return process;
    }

    private IdleMemoryResult MeasureIdleConnections(BenchTarget target)
    {
        using var process = StartWarmedUp(target, _keys, _plan, 1, out var request, out bool answered);
        if (!answered)
        {
            return new IdleMemoryResult(target.Name, _plan.IdleConnections, 0, 0, 0, "did not answer: " + process.Tail());
        }
        Thread.Sleep(300);
        var before = ProcessProbe.RssKiB(process.Pid);
        using var idle = new IdleConnectionSet();
        var held = idle.Open(request, _plan.IdleConnections);
        Thread.Sleep(500);
        var after = ProcessProbe.RssKiB(process.Pid);
        var error = held < _plan.IdleConnections * 0.99 ? $"only {held} of {_plan.IdleConnections} connections were accepted" : null;
        return new IdleMemoryResult(target.Name, _plan.IdleConnections, held, before, after, error);
    }

    public void Dispose()
    {
        _postgres?.Dispose();
        _mariadb?.Dispose();
        _redis?.Dispose();
        _upstream?.Dispose();
        ChildProcess.StopAll();
        try
        {
            Directory.Delete(_scratch, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

internal static class NullableChecks
{
    public static T ThrowIfNull<T>(this T? value, string message) where T : struct =>
        value ?? throw new InvalidOperationException(message);
}
