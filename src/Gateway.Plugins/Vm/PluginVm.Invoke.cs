using System.Diagnostics;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Logging;
using Microsoft.Extensions.Logging;
using Wasmtime;

namespace Gateway.Plugins.Vm;

/// <summary>
/// Every host → guest call goes through one of these: it sets the current and effective context (docs/proxy-wasm.md, 'Contexts and callbacks'), arms
/// the CPU deadline (epoch interruption), refuses re-entry (docs/proxy-wasm.md, 'Calls that wait'), and turns a trap into a failed VM.
/// One overload per callback shape keeps the calls free of closures and boxing.
/// </summary>
internal sealed partial class PluginVm
{
    private const long MemoryLimitSlice = 1024 * 1024;

    private bool _exitIsSuccess;
    private bool _inGuest;

    /// <summary>Why the VM failed, for logs and start-up errors.</summary>
    public string? FailureReason { get; private set; }

    /// <summary>Set by <c>proc_exit</c> before it unwinds the guest.</summary>
    public int? ExitCode { get; set; }

    /// <summary>How the last failure happened, for the per-plugin counters.</summary>
    public VmFailure FailureKind { get; private set; }

    private bool Invoke(ProxyContext? context, Action callback)
    {
        _exitIsSuccess = context is null && Phase == VmPhase.Startup;
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            callback();
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Action<int> callback, int a)
    {
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            callback(a);
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Action<int, int> callback, int a, int b)
    {
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            callback(a, b);
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Action<int, int, int, int> callback, int a, int b, int c, int d)
    {
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            callback(a, b, c, d);
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Action<int, int, int, int, int> callback, int a, int b, int c, int d, int e)
    {
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            callback(a, b, c, d, e);
            return true;
        }
        catch (Exception exception)
        {
            return Fault(exception);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Func<int> callback, out int result)
    {
        result = 0;
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            result = callback();
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Func<int, int> callback, int a, out int result)
    {
        result = 0;
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            result = callback(a);
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Func<int, int, int> callback, int a, int b, out int result)
    {
        result = 0;
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            result = callback(a, b);
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Invoke(ProxyContext? context, Func<int, int, int, int> callback, int a, int b, int c, out int result)
    {
        result = 0;
        if (!Begin(context))
        {
            return false;
        }
        try
        {
            result = callback(a, b, c);
            return true;
        }
        catch (Exception e)
        {
            return Fault(e);
        }
        finally
        {
            End();
        }
    }

    private bool Begin(ProxyContext? context)
    {
        if (Failed)
        {
            return false;
        }
        if (_inGuest)
        {
            // docs/proxy-wasm.md, 'Calls that wait': only the allocator may run while an import is on the stack; anything else is a host bug.
            throw new InvalidOperationException("re-entry into a running guest");
        }
        _inGuest = true;
        Current = Effective = context;
        ExitCode = null;
        _budget.Arm(_store);
        return true;
    }

    /// <summary>
    /// Called on entry to every import. The time an import spends is the callback's own (its CPU shows on this
    /// thread's clock); an import entered past the wall-clock cap ends the call, so a guest that loops over slow host
    /// calls cannot outlive its budget by more than one bounded import.
    /// </summary>
    public void EnterImport()
    {
        if (_inGuest && Phase == VmPhase.Running && _budget.WallCapPassed)
        {
            throw new CpuDeadlineExceededException();
        }
    }

    /// <summary>The epoch deadline passed: the budget decides whether the call goes on (start-up has no wall-clock cap).</summary>
    private ulong OnEpochDeadline(Store store) => _budget.Extend(capped: Phase == VmPhase.Running);

    private void End()
    {
        Output.Flush();
        _inGuest = false;
        _exitIsSuccess = false;
        Current = Effective = null;
    }

    /// <summary>
    /// A trap, an exit or a limit leaves the instance in an unknown state (docs/proxy-wasm.md, 'Loading and VMs'): count it, log it once, tell the
    /// streams that wait on this VM, and release the store. Returns true only for <c>proc_exit(0)</c> from <c>_start</c>.
    /// </summary>
    private bool Fault(Exception e)
    {
        if (_exitIsSuccess && ExitCode == 0)
        {
            return true;
        }
        // What the guest printed before dying (a Go panic and its stack) is logged before the failure itself.
        Output.Flush();
        var blamed = Current?.Plugin ?? Group.Plugins[0];
        FailureKind = Classify(e);
        FailureReason = FailureKind switch
        {
            VmFailure.Deadline => $"CPU deadline of {Group.Limits.CpuMillisecondsPerCall} ms (wall clock {Group.Limits.WallCapMilliseconds} ms) exceeded (memory {MemoryLength} bytes)",
            VmFailure.MemoryLimit => $"memory limit of {Group.Limits.MemoryBytes} bytes reached: {TrapMessage.OneLine(e.Message, Group.Module.ExportNames)}",
            VmFailure.Exit => $"guest exited with proc_exit({ExitCode})",
            _ => TrapMessage.OneLine(e.Message, Group.Module.ExportNames),
        };
        bool starting = Phase is VmPhase.Startup or VmPhase.Configure;
        if (!starting)
        {
            blamed.Counters.Record(FailureKind);
            PluginLog.VmFailed(Group.Logger, blamed.Name, Loop.Index, FailureReason);
        }

        var waiting = new List<StreamContext>();
        foreach (var context in _contexts.Values)
        {
            if (context is StreamContext stream && !stream.Deleted)
            {
                waiting.Add(stream);
            }
        }
        Release();
        if (!starting)
        {
            Worker.OnVmFailed(this, waiting);
        }
        return false;
    }

    private VmFailure Classify(Exception e)
    {
        if (ExitCode is not null)
        {
            return VmFailure.Exit;
        }
        if (e is CpuDeadlineExceededException || e.InnerException is CpuDeadlineExceededException
            || (e is TrapException trap && trap.Type == TrapCode.Interrupt))
        {
            return VmFailure.Deadline;
        }
        // The store refuses growth past the cap silently (memory.grow returns -1) and the guest then traps on its
        // own; a trap with the memory within a slice of the cap is counted as hitting it.
        long cap = Group.Limits.MemoryBytes;
        if (_memory is not null && _memory.GetLength() + Math.Max(MemoryLimitSlice, cap / 10) >= cap)
        {
            return VmFailure.MemoryLimit;
        }
        return VmFailure.Trap;
    }
}
