using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text;

namespace Gateway.Perf.Runner;

/// <summary>
/// Start-up with real plugin sizes: twenty generated modules of about 3 MB (the size of Go builds), loaded by the
/// published gateway twice over one compiled-module cache. The first start compiles every module (in parallel);
/// the second deserializes them. Each figure is process start to <c>/readyz</c> 200, on every core, with the CPU
/// time the process used until then: on the first start that is the compile work done on one core (plus what
/// else start-up does), so spread perfectly over the cores it would take that time divided by their number.
/// </summary>
internal static class PluginStartupBench
{
    public const int Modules = 20;
    public const int TargetBytes = 3 * 1024 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>How far above the CPU time divided by the cores a first start may be: start-up work that is not compiling and cannot be spread.</summary>
    public const double SpreadTolerance = 1.10;

    public sealed record Result(
        int Modules, double MegabytesPerModule, double? FirstStartMs, double? SecondStartMs, string Cpus, string? Error,
        double? FirstStartCpuMs = null, double? SecondStartCpuMs = null, int Cores = 1, double? BusiestThreadShare = null,
        double? BusiestThreadWaitMs = null)
    {
        /// <summary>The first start's wall time over its CPU time divided by the cores: 1 is a perfect spread.</summary>
        public double? SpreadRatio => FirstStartMs / (FirstStartCpuMs / Cores);
    }

    /// <summary>The online CPUs as a list taskset accepts, e.g. "0-1".</summary>
    private static string OnlineCpus()
    {
        try
        {
            return File.ReadAllText("/sys/devices/system/cpu/online").Trim();
        }
        catch (IOException)
        {
            return "0";
        }
    }

    /// <summary>How many CPUs a list like "0-1,4" names.</summary>
    private static int CountCpus(string list)
    {
        int count = 0;
        foreach (string part in list.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-');
            count += range.Length == 2 && int.TryParse(range[0], out int from) && int.TryParse(range[1], out int to) ? to - from + 1 : 1;
        }
        return Math.Max(1, count);
    }

    public static Result Run(string repoRoot, TextWriter log)
    {
        string gateway = Path.Combine(repoRoot, "artifacts", "bin", "gateway");
        string scratch = Path.Combine(Path.GetTempPath(), "gateway-perf-startup-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (!File.Exists(gateway))
        {
            return new Result(Modules, 0, null, null, OnlineCpus(), "artifacts/bin/gateway not found (run `make publish`)");
        }
        try
        {
            Directory.CreateDirectory(scratch);
            long bytes = 0;
            var plugins = new StringBuilder();
            for (int i = 0; i < Modules; i++)
            {
                byte[] module = GeneratedModule.Build(i, TargetBytes);
                bytes += module.Length;
                string path = Path.Combine(scratch, $"plugin{i:D2}.wasm");
                File.WriteAllBytes(path, module);
                plugins.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"\"p{i:D2}\": {{ \"module\": \"{path}\" }}");
            }
            string cache = Path.Combine(scratch, "cache");
            int admin = FreePort.Next();
            string config = Path.Combine(scratch, "gateway.json");
            File.WriteAllText(config, $$"""
                {
                  "workers": 1,
                  "listeners": [{ "name": "public", "address": "127.0.0.1", "port": {{FreePort.Next()}} }],
                  "admin": { "address": "127.0.0.1", "port": {{admin}} },
                  "clusters": { "backend": { "endpoints": ["127.0.0.1:9"] } },
                  "routes": [{ "name": "all", "match": { "pathPrefix": "/" }, "cluster": "backend" }],
                  "plugins": { {{plugins}} },
                  "moduleCache": { "directory": "{{cache}}" }
                }
                """);
            log.WriteLine($"plugin start-up: {Modules} modules of {bytes / Modules / 1e6:F1} MB, first start (compiling) ...");
            var (first, firstCpu, busiest, waited) = TimeToReady(gateway, config, admin);
            log.WriteLine($"plugin start-up: first start ready after {first:F0} ms, {firstCpu:F0} ms of CPU; second start (cached) ...");
            var (second, secondCpu, _, _) = TimeToReady(gateway, config, admin);
            log.WriteLine($"plugin start-up: second start ready after {second:F0} ms, {secondCpu:F0} ms of CPU");
            return new Result(Modules, bytes / (double)Modules / 1e6, first, second, OnlineCpus(), null, firstCpu, secondCpu, CountCpus(OnlineCpus()), busiest, waited);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException or HttpRequestException)
        {
            return new Result(Modules, 0, null, null, OnlineCpus(), e.Message);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The two start-up targets as goal rows: a cached start within a second, a first start as fast as its compile work spread over the cores.</summary>
    public static IEnumerable<GoalVerdict> Goals(Result r)
    {
        const string second = "start-up with twenty 3 MB plugins, cache warm ≤ 1 s";
        string first = $"start-up with twenty 3 MB plugins, first start ≤ compile work ÷ cores (within ×{SpreadTolerance:F2})";
        if (r.Error is not null)
        {
            yield return new GoalVerdict(second, "—", "not measured: " + r.Error);
            yield return new GoalVerdict(first, "—", "not measured: " + r.Error);
            yield break;
        }
        yield return new GoalVerdict(second, $"{r.SecondStartMs:F0} ms", r.SecondStartMs <= 1000 ? "met" : "**missed**");
        yield return new GoalVerdict(first,
            $"{r.FirstStartMs:F0} ms vs {r.FirstStartCpuMs:F0} ms CPU ÷ {r.Cores} = {r.FirstStartCpuMs / r.Cores:F0} ms (×{r.SpreadRatio:F2})",
            r.SpreadRatio <= SpreadTolerance ? "met" : "**missed**");
    }

    /// <summary>Markdown section for the report.</summary>
    public static string Markdown(Result r)
    {
        var md = new StringBuilder();
        md.AppendLine("## Start-up with twenty Go-sized plugins");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"{r.Modules} generated modules of {r.MegabytesPerModule:F1} MB each, one compiled-module cache, process start to `/readyz` 200 on CPUs {r.Cpus}.");
        md.AppendLine("The compile work is the CPU time (user + system, all threads) the first start used until ready: compiling, plus");
        md.AppendLine("the rest of start-up. The first start meets its target when its wall time is within");
        md.AppendLine(CultureInfo.InvariantCulture, $"×{SpreadTolerance:F2} of that CPU time divided by the cores; other work on the machine lengthens the wall time only.");
        md.AppendLine();
        if (r.Error is not null)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"Not run: {r.Error}");
            return md.ToString();
        }
        md.AppendLine("| start | ready after (ms) | CPU time until ready (ms) |");
        md.AppendLine("|---|---|---|");
        md.AppendLine(CultureInfo.InvariantCulture, $"| first (cache empty: every module compiled, in parallel) | {r.FirstStartMs:F0} | {r.FirstStartCpuMs:F0} |");
        md.AppendLine(CultureInfo.InvariantCulture, $"| second (cache warm: modules deserialized) | {r.SecondStartMs:F0} | {r.SecondStartCpuMs:F0} |");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture,
            $"The busiest thread of the first start did {r.BusiestThreadShare:P0} of its CPU time (a perfect spread over {r.Cores} cores: {1.0 / r.Cores:P0}): a");
        md.AppendLine("share near that means the compile work was spread, and a wall time above the target came from other work on the machine.");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"That thread waited {r.BusiestThreadWaitMs:F0} ms for a CPU while runnable (/proc/PID/task/TID/schedstat); without that wait the first start");
        md.AppendLine(CultureInfo.InvariantCulture,
            $"would have taken about {r.FirstStartMs - r.BusiestThreadWaitMs:F0} ms (×{(r.FirstStartMs - r.BusiestThreadWaitMs) / (r.FirstStartCpuMs / r.Cores):F2} of the CPU time divided by the cores), an estimate, not the verdict.");
        md.AppendLine();
        md.AppendLine("| goal | measured | verdict |");
        md.AppendLine("|---|---|---|");
        foreach (var goal in Goals(r))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {goal.Goal} | {goal.Measured} | {goal.Verdict} |");
        }
        return md.ToString();
    }

    /// <summary>
    /// The largest share of the process's CPU time one of its live threads used (/proc/PID/task/*/stat), and how long
    /// that thread waited on a run queue (schedstat's second field, ns): time other work on the machine took from it.
    /// </summary>
    private static (double Share, double WaitMs) BusiestThread(int pid, double processCpuMs)
    {
        long busiest = 0;
        double waitMs = 0;
        foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                long cpu = ProcessProbe.CpuMicroseconds(pid, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture));
                if (cpu > busiest)
                {
                    busiest = cpu;
                    waitMs = long.Parse(File.ReadAllText(Path.Combine(task, "schedstat")).Split(' ')[1], CultureInfo.InvariantCulture) / 1e6;
                }
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }
        return (processCpuMs > 0 ? busiest / 1000.0 / processCpuMs : 0, waitMs);
    }

    /// <summary>Wall time from process start to ready, the CPU time the process used until then (both in ms), and its busiest thread's share and run-queue wait.</summary>
    private static (double WallMs, double CpuMs, double BusiestShare, double BusiestWaitMs) TimeToReady(string gateway, string config, int adminPort)
    {
        // The runner itself is pinned to CPU 0; the gateway gets every online CPU, as at a real start.
        var info = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(OnlineCpus());
        info.ArgumentList.Add(gateway);
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(config);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("gateway did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            while (clock.Elapsed < Timeout)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"gateway exited with {process.ExitCode} before it was ready");
                }
                try
                {
                    using var response = http.GetAsync($"http://127.0.0.1:{adminPort}/readyz").GetAwaiter().GetResult();
                    if ((int)response.StatusCode == 200)
                    {
                        double wall = clock.Elapsed.TotalMilliseconds;
                        // taskset execs the gateway, so the process is the gateway itself.
                        double cpu = ProcessProbe.CpuMicroseconds(process.Id) / 1000.0;
                        var (share, waited) = BusiestThread(process.Id, cpu);
                        return (wall, cpu, share, waited);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                Thread.Sleep(5);
            }
            throw new TimeoutException($"gateway not ready within {Timeout.TotalMinutes:F0} min");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }
}

/// <summary>
/// A valid proxy-wasm module of about a given size: the ABI marker, an allocator, a memory, and as many arithmetic
/// functions as the size takes, each with different constants so every module's bytes (and digest) differ.
/// </summary>
internal static class GeneratedModule
{
    private const int FunctionBodyBytes = 1000;

    public static byte[] Build(int seed, int targetBytes)
    {
        int functions = Math.Max(1, targetBytes / (FunctionBodyBytes + 2));
        var body = new List<byte>();
        var code = new List<byte>();
        Leb(code, (uint)(functions + 2));
        Sized(code, [0x00, 0x0b]); // proxy_abi_version_0_2_1: no locals, end
        Sized(code, [0x00, 0x41, 0x80, 0x08, 0x0b]); // malloc: i32.const 1024
        for (int f = 0; f < functions; f++)
        {
            body.Clear();
            body.Add(0x00); // no locals
            int constant = seed * 7919 + f;
            while (body.Count < FunctionBodyBytes)
            {
                body.AddRange([0x20, 0x00, 0x41]); // local.get 0; i32.const
                SignedLeb(body, constant++);
                body.AddRange([0x6a, 0x41]); // i32.add; i32.const
                SignedLeb(body, (constant % 97) + 3);
                body.AddRange([0x6c, 0x21, 0x00]); // i32.mul; local.set 0
            }
            body.AddRange([0x20, 0x00, 0x0b]); // local.get 0; end
            Sized(code, body);
        }

        var module = new List<byte> { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00 };
        Section(module, 1, [0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f]); // () -> (), (i32) -> i32
        var declarations = new List<byte>();
        Leb(declarations, (uint)(functions + 2));
        declarations.Add(0x00);
        for (int f = 0; f <= functions; f++)
        {
            declarations.Add(0x01);
        }
        Section(module, 3, declarations);
        Section(module, 5, [0x01, 0x00, 0x02]); // one memory, 2 pages
        var exports = new List<byte> { 0x03 };
        Export(exports, "memory", 0x02, 0);
        Export(exports, "proxy_abi_version_0_2_1", 0x00, 0);
        Export(exports, "malloc", 0x00, 1);
        Section(module, 7, exports);
        Section(module, 10, code);
        return [.. module];
    }

    private static void Export(List<byte> to, string name, byte kind, uint index)
    {
        Leb(to, (uint)name.Length);
        to.AddRange(Encoding.ASCII.GetBytes(name));
        to.Add(kind);
        Leb(to, index);
    }

    private static void Section(List<byte> to, byte id, IReadOnlyCollection<byte> content)
    {
        to.Add(id);
        Leb(to, (uint)content.Count);
        to.AddRange(content);
    }

    private static void Sized(List<byte> to, IReadOnlyCollection<byte> content)
    {
        Leb(to, (uint)content.Count);
        to.AddRange(content);
    }

    private static void Leb(List<byte> to, uint value)
    {
        do
        {
            byte b = (byte)(value & 0x7f);
            value >>= 7;
            to.Add(value != 0 ? (byte)(b | 0x80) : b);
        }
        while (value != 0);
    }

    private static void SignedLeb(List<byte> to, int value)
    {
        while (true)
        {
            byte b = (byte)(value & 0x7f);
            value >>= 7;
            if ((value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0))
            {
                to.Add(b);
                return;
            }
            to.Add((byte)(b | 0x80));
        }
    }
}
