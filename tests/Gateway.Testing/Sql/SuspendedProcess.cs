namespace Gateway.Testing.Sql;

/// <summary>
/// A database server process stopped with SIGSTOP, so a statement it runs cannot end (nor be cancelled) until the
/// process is continued with SIGCONT on disposal: the window in which the gateway has given up on a statement the
/// server still runs.
/// </summary>
public sealed class SuspendedProcess : IDisposable
{
    private const int SigCont = 18;
    private const int SigStop = 19;
    private readonly int _pid;
    private bool _continued;

    internal SuspendedProcess(int pid)
    {
        _pid = pid;
        ServerProcess.Signal(pid, SigStop);
    }

    public void Dispose()
    {
        if (!_continued)
        {
            _continued = true;
            ServerProcess.Signal(_pid, SigCont);
        }
    }
}
