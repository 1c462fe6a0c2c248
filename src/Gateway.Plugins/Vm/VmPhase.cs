namespace Gateway.Plugins.Vm;

/// <summary>Where a VM is in its life; some imports are restricted by it (docs/proxy-wasm.md, 'Loading and VMs' and 'Buffers').</summary>
internal enum VmPhase
{
    /// <summary>Start functions run; only logging and WASI are allowed (docs/proxy-wasm.md, 'Loading and VMs').</summary>
    Startup,
    /// <summary>Root contexts are created and configured.</summary>
    Configure,
    Running,
    Log,
    Allocating,
}
