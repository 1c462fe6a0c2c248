namespace Gateway.Plugins.Vm;

/// <summary>Thrown from the epoch callback when a guest call spent its CPU budget.</summary>
internal sealed class CpuDeadlineExceededException() : Exception("CPU deadline exceeded");
