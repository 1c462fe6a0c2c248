namespace Gateway.Perf.Runner;

/// <summary>Collects the machine facts and tool versions a report records.</summary>
public static class Machine
{
    /// <summary>1, 5 and 15-minute load averages: on a shared machine, the noise every figure of the run carries.</summary>
    public static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);

    /// <summary>The nice value the runner (and so every process it starts) runs at: perf/run.sh lowers it when allowed.</summary>
    public static string AutogroupNice()
    {
        try
        {
            // "/autogroup-N nice K" (sched(7), "The autogroup feature").
            var text = File.ReadAllText("/proc/self/autogroup").Trim();
            return text[(text.LastIndexOf(' ') + 1)..];
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    public static int Nice()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[16], System.Globalization.CultureInfo.InvariantCulture);
    }

    public static MachineFacts Describe(string repoRoot, string loadAverageBefore)
    {
        var cpu = "unknown CPU";
        long memory = 0;
        foreach (var line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("model name", StringComparison.Ordinal))
            {
                cpu = line[(line.IndexOf(':') + 1)..].Trim();
                break;
            }
        }
        foreach (var line in File.ReadLines("/proc/meminfo"))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                memory = long.Parse(line["MemTotal:".Length..].Replace("kB", "").Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        var gateway = BenchSession.GatewayBinary(repoRoot);
        var versions = new SortedDictionary<string, string>
        {
            ["gateway"] = File.Exists(gateway) ? ExternalCommand.Version(gateway, "--version") : "not built",
            ["gateway binary"] = gateway.StartsWith(repoRoot, StringComparison.Ordinal)
                ? Path.GetRelativePath(repoRoot, gateway)
                : "PERF_GATEWAY, a build outside the repo",
            ["baseline gateway"] = BenchSession.BaselineGatewayBinary() is { } earlier
                ? (File.Exists(earlier) ? ExternalCommand.Version(earlier, "--version") : "not built") + ", PERF_BASELINE_GATEWAY, a build outside the repo"
                : "none",
            ["nginx"] = ExternalCommand.Version("nginx", "-v"),
            ["haproxy"] = ExternalCommand.Version("haproxy", "-v"),
            ["redis"] = ExternalCommand.Version("redis-server", "--version"),
            ["postgresql"] = ExternalCommand.Version(Path.Combine(PostgresService.Binaries, "postgres"), "--version"),
            ["yarp"] = "Yarp.ReverseProxy 2.3.0",
            ["relay"] = "perf/EpollRelay, this commit",
        };
        // Environment.ProcessorCount honours this process's affinity (CPU 0 only); count the machine's CPUs instead.
        var cores = 0;
        foreach (var line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("processor", StringComparison.Ordinal))
            {
                cores++;
            }
        }
        return new MachineFacts(cpu, cores, Environment.OSVersion.Version.ToString(), memory,
            Environment.Version.ToString(), ExternalCommand.Version("git", "-C", repoRoot, "rev-parse", "--short", "HEAD"),
            versions,
            "Pinning: each proxy on CPU 1 (taskset -c 1); the load generator shares CPU 0 with the upstream nginx, Redis and PostgreSQL.",
            loadAverageBefore, LoadAverage(), Nice(), AutogroupNice());
    }
}
