using System.Globalization;
using System.Text;

namespace Gateway.Backends.Redis;

/// <summary>The Redis breakers for <c>/metrics</c>: one per target and plugin, since each plugin has its own.</summary>
internal static class RedisCircuitMetrics
{
    public static void Write(StringBuilder output, IReadOnlyList<RedisTarget> targets)
    {
        if (targets.Count == 0)
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        output.Append("# HELP gateway_redis_circuit_state Circuit breaker per target and plugin: 0 closed, 1 open, 2 half-open.\n");
        output.Append("# TYPE gateway_redis_circuit_state gauge\n");
        foreach (var target in targets)
        {
            foreach (var client in target.Clients)
            {
                output.Append(inv, $"gateway_redis_circuit_state{{target=\"{Label(target.Name)}\",plugin=\"{Label(client.Plugin)}\"}} {(int)client.Breaker.State}\n");
            }
        }
    }

    // Label values escape backslash, double quote and newline (Prometheus text exposition format).
    private static string Label(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
