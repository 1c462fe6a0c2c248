namespace Gateway.Plugins.Vm;

/// <summary>How a VM failed, for the per-plugin counters and the log.</summary>
internal enum VmFailure
{
    None,
    Trap,
    Deadline,
    MemoryLimit,
    Exit,
}
