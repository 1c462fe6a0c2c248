using Gateway.Configuration;

namespace Gateway.Hosting;

/// <summary>What <c>Program</c> hands the host: the config path and the snapshot it loaded and validated.</summary>
public sealed record GatewayStartup(string ConfigPath, ConfigLoadResult Loaded);
