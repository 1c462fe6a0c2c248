namespace Gateway.Plugins.Contexts;

/// <summary>What one plugin's callback means for the phase it ran in.</summary>
internal enum StepResult
{
    Continue,
    Pause,
    /// <summary>Nothing more goes downstream for this chunk, but the phase is done.</summary>
    Hold,
    /// <summary>A 0.2.100 plugin's StopIteration on headers: the header phase ends, its body phases go on (docs/proxy-wasm.md, 'Stream control').</summary>
    HoldHeaders,
    Stop,
}
