namespace Gateway.Hosting;

/// <summary>A start-up failure whose problems are printed, one per line, before exiting non-zero.</summary>
public sealed class GatewayStartException(IReadOnlyList<string> problems) : Exception("the gateway could not start")
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
