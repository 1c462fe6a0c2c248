using System.Text.Json.Serialization;

namespace Gateway.Configuration;

/// <summary>
/// Source-generated metadata for the config model: AOT-safe (de)serialization, and the schema that
/// <see cref="ConfigSchema"/> and <see cref="EnvironmentOverrides"/> walk, so key names live in one place.
/// Numbers may be read from strings so <c>"port": "${env:PORT}"</c> works.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(GatewayConfig))]
internal sealed partial class ConfigJsonContext : JsonSerializerContext;
