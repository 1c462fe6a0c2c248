using System.Globalization;

namespace Gateway.Perf.Runner;

/// <summary>What a run compares: the direct path, the gateway with each plugin scenario, and the peers.</summary>
public sealed partial class BenchSession
{
    private void BuildTargets()
    {
        var gatewayBinary = GatewayBinary(_repoRoot);
        var pluginFolder = Path.Combine(_repoRoot, "artifacts", "plugins");
        var yarp = Path.Combine(_repoRoot, "perf", "YarpPeer", "bin", "Release", "net10.0", "YarpPeer.dll");
        var relay = Path.Combine(_repoRoot, "perf", "EpollRelay", "bin", "Release", "net10.0", "EpollRelay.dll");
        var gatewayMissing = File.Exists(gatewayBinary) ? null : $"{gatewayBinary} not found (run `make publish`)";
        bool baselineEarlierSchema = Environment.GetEnvironmentVariable("PERF_BASELINE_SCHEMA") == "earlier";

        Targets.Add(new BenchTarget { Name = "direct", Description = "loader → upstream nginx, no proxy" });
        Targets.Add(Gateway("gateway", "gateway, no plugins", []));
        Targets.Add(new BenchTarget
        {
            Name = "nginx",
            Description = "nginx 1 worker, upstream keep-alive",
            Baseline = "direct",
            Launch = port => StartNginx("nginx-peer", ProxyCpu, NginxConfig.Proxy(_scratch, port, _upstreamPort)),
            LaunchUnder = (port, under) => StartNginx("nginx-peer", ProxyCpu, NginxConfig.Proxy(_scratch, port, _upstreamPort), under),
            NotRunReason = OnPath("nginx"),
        });
        Targets.Add(new BenchTarget
        {
            // The goals compare against plain nginx; this one shows what nginx costs doing the gateway's whole job.
            Name = "nginx+fields",
            Description = "nginx as above, also setting the gateway's forwarding fields and a request id",
            Baseline = "direct",
            Launch = port => StartNginx("nginx-fields", ProxyCpu, NginxConfig.Proxy(_scratch, port, _upstreamPort, forwardingFields: true)),
            NotRunReason = OnPath("nginx"),
        });
        Targets.Add(new BenchTarget
        {
            Name = "haproxy",
            Description = "HAProxy nbthread 1, http-reuse always",
            Baseline = "direct",
            Launch = port =>
            {
                var path = Path.Combine(_scratch, "haproxy.cfg");
                File.WriteAllText(path, HaproxyConfig.Proxy(port, _upstreamPort, OpenFileLimit()));
                return ChildProcess.Start("haproxy", ProxyCpu, "haproxy", ["-f", path, "-db"], _scratch);
            },
            NotRunReason = OnPath("haproxy"),
        });
        Targets.Add(new BenchTarget
        {
            Name = "yarp",
            Description = "YARP 2.3 on Kestrel, one CPU",
            Baseline = "direct",
            Launch = port => ChildProcess.Start("yarp", ProxyCpu, "dotnet",
                [yarp, port.ToString(CultureInfo.InvariantCulture), $"127.0.0.1:{_upstreamPort}"], _scratch),
            NotRunReason = File.Exists(yarp) ? null : "perf/YarpPeer is not built (run `dotnet build perf/YarpPeer -c Release`)",
        });
        Targets.Add(new BenchTarget
        {
            Name = "relay",
            Description = "C# relaying bytes unread over an epoll loop of its own, an upstream connection per client: a floor under proxies on .NET, not a proxy",
            Baseline = "direct",
            Launch = port => ChildProcess.Start("relay", ProxyCpu, "dotnet",
                [relay, port.ToString(CultureInfo.InvariantCulture), _upstreamPort.ToString(CultureInfo.InvariantCulture)], _scratch),
            NotRunReason = File.Exists(relay) ? null : "perf/EpollRelay is not built (run `dotnet build perf/EpollRelay -c Release`)",
        });
        Targets.Add(Gateway("gw+passthrough", "gateway, pass-through Wasm plugin", ["passthrough"]));
        Targets.Add(Gateway("gw+add_header", "gateway, header-mutating Wasm plugin", ["add_header"]));
        Targets.Add(Gateway("gw+rate_limit", "gateway, rate_limit on Redis", ["rate_limit"],
            headers: [new("x-client", "bench")]));
        Targets.Add(Gateway("gw+api_key hit", "gateway, api_key on PostgreSQL, same key (cache hit)", ["api_key"],
            headers: [new("x-api-key", "key-0")]));
        Targets.Add(Gateway("gw+api_key miss", "gateway, api_key on PostgreSQL, new key per request (cache miss)", ["api_key"],
            freshKeys: true));
        Targets.Add(Gateway("gw+rate_limit+api_key", "gateway, rate_limit then api_key (hit)", ["rate_limit", "api_key"],
            headers: [new("x-client", "bench"), new("x-api-key", "key-0")]));
        if (BaselineGatewayBinary() is { } earlier)
        {
            // An earlier build measured in the same rounds, e.g. before a client library was replaced.
            Targets.Add(Gateway("baseline", "the gateway PERF_BASELINE_GATEWAY names, no plugins", [], binary: earlier));
            Targets.Add(Gateway("baseline+rate_limit", "the gateway PERF_BASELINE_GATEWAY names, rate_limit on Redis", ["rate_limit"],
                headers: [new("x-client", "bench")], binary: earlier));
        }
        Targets.Add(Gateway("gw+api_key miss mariadb", "gateway, api_key on MariaDB (mysql provider), new key per request (cache miss)", ["api_key"],
            freshKeys: true, mariadb: true));

        BenchTarget Gateway(string name, string description, string[] plugins,
            KeyValuePair<string, string>[]? headers = null, bool freshKeys = false, bool mariadb = false, string? binary = null)
        {
            var needsRedis = Array.IndexOf(plugins, "rate_limit") >= 0;
            var needsPostgres = Array.IndexOf(plugins, "api_key") >= 0 && !mariadb;
            var reason = binary is null ? gatewayMissing : File.Exists(binary) ? null : $"{binary} not found";
            foreach (var plugin in plugins)
            {
                reason ??= File.Exists(Path.Combine(pluginFolder, plugin + ".wasm")) ? null : $"artifacts/plugins/{plugin}.wasm not found (run `make plugins`)";
            }
            if (needsRedis)
            {
                reason ??= _redisProblem;
            }
            if (needsPostgres)
            {
                reason ??= _postgresProblem;
            }
            if (mariadb)
            {
                reason ??= _mariadbProblem;
            }
            return new BenchTarget
            {
                Name = name,
                Description = description,
                Baseline = plugins.Length == 0 ? "direct" : binary is null ? "gateway" : "baseline",
                Headers = headers ?? [],
                FreshApiKeyPerRequest = freshKeys,
                OwnKeys = mariadb ? new ApiKeyRange() : null,
                Saturate = !freshKeys,
                NotRunReason = reason,
                ServesMetrics = true,
                Launch = port => Start(port, null),
                LaunchUnder = Start,
            };

            ChildProcess Start(int port, Func<string, IReadOnlyList<string>>? under)
            {
                var path = Path.Combine(_scratch, $"gateway-{port}.json");
                var adminPort = FreePort.Next();
                File.WriteAllText(path, GatewayConfig.Build(port, adminPort, _upstreamPort, pluginFolder, plugins,
                    needsRedis ? _redis?.Port : null, needsPostgres ? _postgres?.Port : null, mariadb ? _mariadb?.Port : null,
                    earlierSchema: binary is not null && baselineEarlierSchema));
                var gateway = ChildProcess.Start("gateway", ProxyCpu, binary ?? gatewayBinary, ["--config", path], _scratch, under: under);
                gateway.MetricsPort = adminPort;
                return gateway;
            }
        }
    }

    /// <summary>
    /// The published gateway (README, 'Command line'), or the binary PERF_GATEWAY names, e.g. a publish
    /// made with other properties; the report records which one ran.
    /// </summary>
    public static string GatewayBinary(string repoRoot) =>
        Environment.GetEnvironmentVariable("PERF_GATEWAY") is { Length: > 0 } custom
            ? Path.GetFullPath(custom)
            : Path.Combine(repoRoot, "artifacts", "bin", "gateway");

    /// <summary>
    /// An earlier gateway build to measure beside this one (targets "baseline" and "baseline+rate_limit"), named by
    /// PERF_BASELINE_GATEWAY; with PERF_BASELINE_SCHEMA=earlier its configuration leaves out the keys added since
    /// the own Redis client was replaced (see <see cref="GatewayConfig"/>).
    /// </summary>
    public static string? BaselineGatewayBinary() =>
        Environment.GetEnvironmentVariable("PERF_BASELINE_GATEWAY") is { Length: > 0 } earlier ? Path.GetFullPath(earlier) : null;
}
