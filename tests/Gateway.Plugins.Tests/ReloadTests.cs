using Gateway.Http.Messages;
using Gateway.Http.Transport;
using Gateway.Plugins.Runtime;
using Gateway.Testing;
using static Gateway.Plugins.Tests.PluginHarness;

namespace Gateway.Plugins.Tests;

/// <summary>
/// A reload builds the next runtime generation from the running one: plugins whose module bytes and options are
/// unchanged keep their VMs (and what the guest holds in memory); changed ones start afresh.
/// </summary>
public sealed class ReloadTests
{
    [Fact]
    public async Task Reload_UnchangedPluginKeepsItsVmState_ChangedOneStartsOver()
    {
        var services = new PluginServices { LoggerFactory = new CapturingLoggerFactory() };
        var kept = Plugin("kept", "behaviors", "rebuild");
        var changed = Plugin("changed", "behaviors", "rebuild");
        using var first = PluginRuntime.Load([kept, changed], services, out var errors);
        Assert.Empty(errors);
        using var loop = new WorkerLoop(0);
        var before = await loop.RunOnWorker(() => Task.FromResult(first.CreateWorker(loop)));
        Assert.Equal("1", await CountAsync(loop, before, "kept"));
        Assert.Equal("2", await CountAsync(loop, before, "kept"));
        Assert.Equal("1", await CountAsync(loop, before, "changed"));

        using var second = first.Reload([kept, changed with { FailurePolicy = FailurePolicy.Open }], services, out errors);
        Assert.Empty(errors);
        Assert.Equal(1, second.GroupsBuilt);
        var after = await loop.RunOnWorker(() => Task.FromResult(second.CreateWorker(loop, before)));

        // The first generation goes away entirely; what the second kept must not go with it.
        await loop.RunOnWorker(() =>
        {
            before.Dispose();
            return Task.FromResult(0);
        });
        first.Dispose();

        Assert.Equal("3", await CountAsync(loop, after, "kept"));
        Assert.Equal("1", await CountAsync(loop, after, "changed"));
        await loop.RunOnWorker(() =>
        {
            after.Dispose();
            return Task.FromResult(0);
        });
    }

    [Fact]
    public async Task Reload_ModuleBytesChangedAtTheSamePath_Recompiled()
    {
        using var folder = new TempFolder("plugin-reload-");
        string module = folder.PathOf("plugin.wasm");
        File.Copy(TestPlugins.Path("behaviors"), module);
        var services = new PluginServices { LoggerFactory = new CapturingLoggerFactory() };
        var options = Plugin("p", "behaviors", "rebuild") with { ModulePath = module };
        using var first = PluginRuntime.Load([options], services, out var errors);
        Assert.Empty(errors);

        using (var same = first.Reload([options], services, out errors))
        {
            Assert.Empty(errors);
            Assert.Equal(0, same.GroupsBuilt);
        }

        // The same bytes written again: nothing to rebuild.
        File.Copy(TestPlugins.Path("behaviors"), module, overwrite: true);
        using (var rewritten = first.Reload([options], services, out errors))
        {
            Assert.Equal(0, rewritten.GroupsBuilt);
        }

        await File.AppendAllBytesAsync(module, CustomSection(), TestContext.Current.CancellationToken);
        using var changed = first.Reload([options], services, out errors);
        Assert.Empty(errors);
        Assert.Equal(1, changed.GroupsBuilt);
    }

    [Fact]
    public async Task Reload_ChangedPluginFailsItsProbe_ErrorsNameItAndTheRunningGenerationServesOn()
    {
        var services = new PluginServices { LoggerFactory = new CapturingLoggerFactory() };
        using var first = PluginRuntime.Load([Plugin("p", "behaviors", "rebuild")], services, out var errors);
        Assert.Empty(errors);
        using var loop = new WorkerLoop(0);
        var worker = await loop.RunOnWorker(() => Task.FromResult(first.CreateWorker(loop)));
        Assert.Equal("1", await CountAsync(loop, worker, "p"));

        var refused = first.Reload([Plugin("p", "behaviors", "reject")], services, out errors);
        Assert.Contains(errors, e => e.StartsWith("plugin 'p':", StringComparison.Ordinal));
        refused.Dispose();

        Assert.Equal("2", await CountAsync(loop, worker, "p"));
        await loop.RunOnWorker(() =>
        {
            worker.Dispose();
            return Task.FromResult(0);
        });
    }

    /// <summary>A custom section ("x", empty): valid wasm after the module's last section, so the bytes differ but the module does not.</summary>
    private static byte[] CustomSection() => [0x00, 0x02, 0x01, (byte)'x'];

    private static Task<string?> CountAsync(WorkerLoop loop, WorkerPlugins plugins, string plugin) =>
        loop.RunOnWorker(async () =>
        {
            var stream = plugins.BeginStream([plugin], Info());
            var request = Get("/count");
            var outcome = await stream.OnRequestHeadersAsync(request, true);
            stream.Complete();
            Assert.Equal(FilterAction.Continue, outcome.Action);
            return request.Headers.Get("x-count");
        });
}
