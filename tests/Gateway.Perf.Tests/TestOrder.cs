// The loader tests measure time (a run must end at its duration) and saturate a loopback server; on a two-core machine,
// runs side by side would judge each other's scheduling, not the loader. One at a time, they take a few seconds in all.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
