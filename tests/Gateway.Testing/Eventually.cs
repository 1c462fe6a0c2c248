using System.Diagnostics;

namespace Gateway.Testing;

/// <summary>
/// Waits for a condition that turns true a little after the event that makes it so: a counter bumped as an exchange
/// ends, a reload applied, a log line written. Checked every 100 ms for 10 s.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>True as soon as <paramref name="condition"/> holds; false if it still does not after 10 s.</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed >= Patience)
            {
                return false;
            }
            await Task.Delay(100, cancellationToken);
        }
        return true;
    }
}
