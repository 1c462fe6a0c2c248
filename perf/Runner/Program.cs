using System.Globalization;
using System.Text.Json;
using Gateway.Perf.Load;
using Gateway.Perf.Runner;

// bench quick|full [--only name,name] | startup | tls
// Run from perf/run.sh (which builds, raises the fd limit and pins this process,
// the load generator, to CPU 0). Writes perf/results/<UTC stamp>.{md,json,svg}
// and prints the markdown report.
if (args.Length == 1 && args[0] == "startup")
{
    // Only the plugin start-up scenario (a minute or two), report in perf/results/<stamp>-startup.md.
    var root = FindRepoRoot();
    string startupLoadBefore = Machine.LoadAverage();
    var result = PluginStartupBench.Run(root, Console.Error);
    string text = $"`perf/run.sh startup` at {DateTime.UtcNow:O}, commit {ExternalCommand.Version("git", "-C", root, "rev-parse", "--short", "HEAD")}; load average {startupLoadBefore} before, " +
        $"{Machine.LoadAverage()} after; autogroup nice {Machine.AutogroupNice()}\n\n" + PluginStartupBench.Markdown(result);
    string file = Path.Combine(root, "perf", "results", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-startup.md");
    File.WriteAllText(file, text);
    Console.WriteLine(text);
    return result.Error is null ? 0 : 1;
}
if (args.Length == 1 && args[0] == "tls")
{
    // Only the TLS scenario (quick plan, a minute), report in perf/results/<stamp>-tls.md.
    var root = FindRepoRoot();
    string tlsLoadBefore = Machine.LoadAverage();
    var result = TlsBench.Run(root, BenchPlan.Quick, Console.Error);
    string text = $"`perf/run.sh tls` at {DateTime.UtcNow:O}, commit {ExternalCommand.Version("git", "-C", root, "rev-parse", "--short", "HEAD")}; load average {tlsLoadBefore} before, " +
        $"{Machine.LoadAverage()} after; autogroup nice {Machine.AutogroupNice()}\n\n" + TlsBench.Markdown(result);
    string file = Path.Combine(root, "perf", "results", DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-tls.md");
    File.WriteAllText(file, text);
    Console.WriteLine(text);
    return result.Error is null ? 0 : 1;
}
if (args.Length < 1 || args[0] is not ("quick" or "full"))
{
    Console.Error.WriteLine("usage: bench quick|full [--only target,target] | startup | tls");
    return 2;
}
var plan = args[0] == "full" ? BenchPlan.Full : BenchPlan.Quick;
string[]? only = null;
for (var i = 1; i + 1 < args.Length; i++)
{
    if (args[i] == "--only")
    {
        only = args[i + 1].Split(',');
    }
}
var repoRoot = FindRepoRoot();
if (!MonotonicClock.IsNanosecondMonotonic)
{
    Console.Error.WriteLine("warning: Stopwatch is not CLOCK_MONOTONIC in ns; open-loop scheduling falls back to millisecond sleeps");
}
var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
var started = DateTime.UtcNow;
var loadBefore = Machine.LoadAverage();
using var session = new BenchSession(plan, repoRoot, only);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = false;
    session.Dispose();
};
Console.Error.WriteLine($"bench {plan.Mode}: {plan.Rounds} rounds; the loader runs on CPU 0 with the upstream, Redis and PostgreSQL; each proxy on CPU 1");
try
{
    session.Run(Console.Error);
}
finally
{
    session.Dispose();
}
var machine = Machine.Describe(repoRoot, loadBefore);
var summary = new RunSummary(session.Targets, session.Rounds);
var goals = GoalCheck.Evaluate(summary, session.IdleMemory, session.NginxHeadToHead);
var pluginStartup = PluginStartupBench.Run(repoRoot, Console.Error);
goals.AddRange(PluginStartupBench.Goals(pluginStartup));
// TLS termination against nginx: run unless --only names other targets and not "tls".
var tls = only is null || only.Contains("tls") ? TlsBench.Run(repoRoot, plan, Console.Error) : new TlsBench.Result(plan.Rounds, null, [], "not selected (--only)");
var markdown = MarkdownReport.Write(stamp, plan, machine, session, summary, goals) + "\n" + ProfileReport.Write(session.Profiles, summary) +
    "\n" + InstructionReport.Write(session.Instructions) + "\n" + PluginStartupBench.Markdown(pluginStartup) + "\n" + TlsBench.Markdown(tls);
var results = Path.Combine(repoRoot, "perf", "results");
Directory.CreateDirectory(results);
File.WriteAllText(Path.Combine(results, stamp + ".md"), markdown);
File.WriteAllText(Path.Combine(results, stamp + ".svg"), SvgChart.Write($"Gateway performance, {plan.Mode} run {stamp}", session.Targets, summary));
var report = new
{
    date = started.ToString("O", CultureInfo.InvariantCulture),
    durationSeconds = (DateTime.UtcNow - started).TotalSeconds,
    plan,
    machine,
    targets = session.Targets.Select(t => new { t.Name, t.Description, t.Baseline, t.NotRunReason }),
    goals,
    rounds = session.Rounds,
    headToHead = session.NginxHeadToHead,
    floors = session.Floors,
    pluginStartup,
    tls,
    profiles = session.Profiles,
    instructions = session.Instructions,
    idleMemory = session.IdleMemory.Select(r => new { r.Target, r.Requested, r.Held, r.RssBeforeKiB, r.RssAfterKiB, r.BytesPerConnection, r.Error }),
};
File.WriteAllText(Path.Combine(results, stamp + ".json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine(markdown);
Console.Error.WriteLine($"wrote perf/results/{stamp}.md, .json, .svg in {(DateTime.UtcNow - started).TotalSeconds:F0} s");
return 0;

static string FindRepoRoot()
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }
    }
    throw new InvalidOperationException("Gateway.sln not found above the current directory");
}
