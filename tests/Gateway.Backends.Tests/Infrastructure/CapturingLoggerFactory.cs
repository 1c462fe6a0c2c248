using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.Backends.Tests;

/// <summary>Records every formatted log line (with its exception) so tests can assert that no secret is ever logged.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory, ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public string AllText => string.Join("\n", Lines);

    /// <summary>Waits until a line contains <paramref name="text"/> (the backends log off the caller's path); false at the timeout.</summary>
    public async Task<bool> WaitForAsync(string text, TimeSpan timeout, CancellationToken ct)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!AllText.Contains(text, StringComparison.Ordinal))
        {
            if (watch.Elapsed >= timeout)
            {
                return false;
            }
            await Task.Delay(20, ct);
        }
        return true;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : string.Empty;
            owner.Lines.Enqueue($"{logLevel} {category} {formatter(state, exception)} [{properties}] {exception}");
        }
    }
}
