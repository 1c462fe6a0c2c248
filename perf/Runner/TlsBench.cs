using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>
/// TLS termination, the gateway beside nginx serving the same certificate, in interleaved rounds: CPU µs per request
/// over kept-alive TLS connections (the record layer), and full handshakes per second with one request on each new
/// connection (the handshake). Both proxies run on the proxy CPU in front of the same plain upstream; the loader
/// verifies the certificate against the run's test CA and never resumes a session.
/// </summary>
internal static class TlsBench
{
    public const int KeptAliveConnections = 32;
    public const int HandshakeConnections = 8;
    private const int LoaderCpu = 0;
    private const int ProxyCpu = 1;
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(15);

    public sealed record TargetResult(
        string Name, string Description, Spread? KeptAliveRate, Spread? KeptAliveCpuMicros, Spread? HandshakesPerSecond,
        Spread? HandshakeCpuMicros, int FailedRuns, string? NotRunReason);

    public sealed record Result(int Rounds, string? Protocol, IReadOnlyList<TargetResult> Targets, string? Error);

    private sealed class Target(string name, string description, Func<int, ChildProcess> launch)
    {
        public string Name { get; } = name;
        public string Description { get; } = description;
        public Func<int, ChildProcess> Launch { get; } = launch;
        public ChildProcess? Process { get; set; }
        public int Port { get; set; }
        public string? NotRunReason { get; set; }
        public List<double> KeptAliveRate { get; } = [];
        public List<double> KeptAliveCpu { get; } = [];
        public List<double> HandshakeRate { get; } = [];
        public List<double> HandshakeCpu { get; } = [];
        public int FailedRuns { get; set; }
    }

    public static Result Run(string repoRoot, BenchPlan plan, TextWriter log)
    {
        string scratch = Path.Combine(Path.GetTempPath(), "gateway-perf-tls-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(scratch);
        ChildProcess? upstream = null;
        var targets = new List<Target>();
        try
        {
            using TlsCertificates? certificates = TlsCertificates.Create(scratch, out string? problem);
            if (certificates is null)
            {
                return new Result(plan.Rounds, null, [], problem);
            }
            int upstreamPort = FreePort.Next();
            upstream = StartNginx(scratch, "tls-upstream", LoaderCpu, NginxConfig.Upstream(scratch, upstreamPort));
            string gatewayBinary = BenchSession.GatewayBinary(repoRoot);
            targets.Add(new Target("gateway", "the published gateway, one worker, TLS listener", port =>
            {
                string path = Path.Combine(scratch, $"tls-gateway-{port}.json");
                File.WriteAllText(path, GatewayTlsConfig(port, FreePort.Next(), upstreamPort, certificates));
                return ChildProcess.Start("tls-gateway", ProxyCpu, gatewayBinary, ["--config", path], scratch);
            })
            { NotRunReason = File.Exists(gatewayBinary) ? null : "gateway binary not found (run `make publish`)" });
            targets.Add(new Target("nginx", "nginx, one worker loop, ssl on the listener, no session cache or tickets", port =>
                StartNginx(scratch, "tls-nginx", ProxyCpu, NginxConfig.TlsProxy(scratch, port, upstreamPort, certificates.CertFile, certificates.KeyFile))));

            string? protocol = null;
            foreach (Target target in targets)
            {
                if (target.NotRunReason is null)
                {
                    Start(target, certificates);
                }
            }
            for (int round = 1; round <= plan.Rounds; round++)
            {
                foreach (Target target in targets)
                {
                    if (target.NotRunReason is not null)
                    {
                        continue;
                    }
                    log.WriteLine($"tls round {round}/{plan.Rounds}: {target.Name}");
                    protocol = MeasureRound(target, plan, certificates) ?? protocol;
                }
            }
            return new Result(plan.Rounds, protocol, [.. targets.Select(Summarize)], null);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            return new Result(plan.Rounds, null, [.. targets.Select(Summarize)], e.Message);
        }
        finally
        {
            foreach (Target target in targets)
            {
                target.Process?.Dispose();
            }
            upstream?.Dispose();
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static void Start(Target target, TlsCertificates certificates)
    {
        target.Port = FreePort.Next();
        target.Process = target.Launch(target.Port);
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (DateTime.UtcNow < deadline && !target.Process.HasExited)
        {
            using var probe = new LoadConnection(Request(target.Port), Client(certificates), connectionPerRequest: true, receiveTimeoutMs: 2_000);
            try
            {
                if (probe.Exchange(0) is >= 200 and < 300)
                {
                    return;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException or System.Security.Authentication.AuthenticationException)
            {
            }
            Thread.Sleep(20);
        }
        target.NotRunReason = "did not answer over TLS: " + target.Process.Tail();
    }

    /// <summary>One round for one target: a warm-up, the kept-alive phase, the handshake phase. Returns the negotiated protocol.</summary>
    private static string? MeasureRound(Target target, BenchPlan plan, TlsCertificates certificates)
    {
        RequestTemplate request = Request(target.Port);
        new ClosedLoopRun(request, plan.WarmUp, KeptAliveConnections, Client(certificates)).Run();
        int pid = target.Process!.Pid;

        var keptAlive = new ClosedLoopRun(request, plan.Phase, KeptAliveConnections, Client(certificates));
        long cpuBefore = ProcessProbe.CpuMicroseconds(pid);
        LoadResult kept = keptAlive.Run();
        long cpu = ProcessProbe.CpuMicroseconds(pid) - cpuBefore;
        if (kept.Failed || kept.Completed == 0)
        {
            target.FailedRuns++;
        }
        else
        {
            target.KeptAliveRate.Add(kept.AchievedRate);
            target.KeptAliveCpu.Add((double)cpu / kept.Completed);
        }

        var handshaking = new ClosedLoopRun(request, plan.Phase, HandshakeConnections, Client(certificates), connectionPerRequest: true);
        cpuBefore = ProcessProbe.CpuMicroseconds(pid);
        LoadResult shaken = handshaking.Run();
        cpu = ProcessProbe.CpuMicroseconds(pid) - cpuBefore;
        if (shaken.Failed || handshaking.Connects == 0)
        {
            target.FailedRuns++;
        }
        else
        {
            target.HandshakeRate.Add(handshaking.Connects / shaken.ElapsedSeconds);
            target.HandshakeCpu.Add((double)cpu / handshaking.Connects);
        }
        return handshaking.Connects > 0 ? handshaking.Protocol.ToString() : null;
    }

    private static RequestTemplate Request(int port) => new("127.0.0.1", port, "/", []);

    private static TlsClient Client(TlsCertificates certificates) => new(TlsCertificates.ServerName, certificates.Ca);

    private static TargetResult Summarize(Target t) => new(
        t.Name, t.Description, Spread.Of(t.KeptAliveRate), Spread.Of(t.KeptAliveCpu), Spread.Of(t.HandshakeRate), Spread.Of(t.HandshakeCpu),
        t.FailedRuns, t.NotRunReason);

    private static ChildProcess StartNginx(string scratch, string name, int cpu, string config)
    {
        string path = Path.Combine(scratch, name + ".nginx.conf");
        File.WriteAllText(path, config);
        return ChildProcess.Start(name, cpu, "nginx", ["-c", path, "-p", scratch], scratch);
    }

    private static string GatewayTlsConfig(int port, int adminPort, int upstreamPort, TlsCertificates certificates) => new JsonObject
    {
        ["workers"] = 1,
        ["listeners"] = new JsonArray(new JsonObject
        {
            ["name"] = "public",
            ["address"] = "127.0.0.1",
            ["port"] = port,
            ["tls"] = new JsonObject { ["certFile"] = certificates.CertFile, ["keyFile"] = certificates.KeyFile },
        }),
        ["admin"] = new JsonObject { ["address"] = "127.0.0.1", ["port"] = adminPort },
        ["clusters"] = new JsonObject { ["upstream"] = new JsonObject { ["endpoints"] = new JsonArray($"127.0.0.1:{upstreamPort}") } },
        ["routes"] = new JsonArray(new JsonObject
        {
            ["name"] = "all",
            ["match"] = new JsonObject { ["host"] = "*", ["pathPrefix"] = "/" },
            ["cluster"] = "upstream",
        }),
        // As in the plain scenarios: nginx runs without an access log, so the gateway does too.
        ["accessLog"] = new JsonObject { ["enabled"] = false },
    }.ToJsonString();

    /// <summary>Markdown section for the report: one row per target, then the gateway's figures over nginx's.</summary>
    public static string Markdown(Result r)
    {
        var md = new StringBuilder();
        md.AppendLine("## TLS termination: kept-alive requests and full handshakes");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"The gateway and nginx serve one ECDSA P-256 certificate (a test CA and leaf made with openssl for this run) in front of the same plain upstream, " +
            $"each on CPU {ProxyCpu}; {r.Rounds} interleaved rounds, medians [min–max]. Kept alive: {KeptAliveConnections} TLS connections opened before the phase, " +
            $"closed loop. Handshakes: {HandshakeConnections} loops each opening a connection, verifying the certificate, sending one request and closing; " +
            $"the loader never resumes a session, so each is a full handshake. CPU is the proxy process's utime+stime over the phase. " +
            $"Negotiated: {r.Protocol ?? "—"}.");
        md.AppendLine();
        if (r.Error is not null)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"**Not run**: {r.Error}");
            return md.ToString();
        }
        md.AppendLine("| target | req/s kept alive | CPU µs/request kept alive | full handshakes/s | CPU µs/handshake (with its request) | failed runs |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (TargetResult t in r.Targets)
        {
            if (t.NotRunReason is not null)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {t.Name} | not run: {t.NotRunReason} | | | | |");
                continue;
            }
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {t.Name} | {Format(t.KeptAliveRate, "F0")} | {Format(t.KeptAliveCpuMicros, "F1")} | {Format(t.HandshakesPerSecond, "F0")} | {Format(t.HandshakeCpuMicros, "F0")} | {t.FailedRuns} |");
        }
        TargetResult? gateway = r.Targets.FirstOrDefault(t => t.Name == "gateway");
        TargetResult? nginx = r.Targets.FirstOrDefault(t => t.Name == "nginx");
        if (gateway?.KeptAliveCpuMicros is { } gk && nginx?.KeptAliveCpuMicros is { } nk && gateway.HandshakeCpuMicros is { } gh && nginx.HandshakeCpuMicros is { } nh
            && gateway.HandshakesPerSecond is { } gr && nginx.HandshakesPerSecond is { } nr)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"Gateway over nginx (medians): CPU per kept-alive request ×{gk.Median / nk.Median:F2}, CPU per handshake ×{gh.Median / nh.Median:F2}, handshakes/s ×{gr.Median / nr.Median:F2}.");
        }
        return md.ToString();
    }

    private static string Format(Spread? spread, string format) => spread is { } s ? s.Format(format) : "—";
}
