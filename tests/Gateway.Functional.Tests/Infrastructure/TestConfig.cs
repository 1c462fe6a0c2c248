namespace Gateway.Testing;

/// <summary>Gateway configs for tests: loopback, OS-assigned ports, one route to the given upstreams.</summary>
public static class TestConfig
{
    public static string Proxy(
        string endpoints, int workers = 2, string limits = "", string cluster = "", string routes = "", string extra = "")
    {
        string routeList = routes.Length > 0
            ? routes
            : """{ "name": "all", "match": { "host": "*", "pathPrefix": "/" }, "cluster": "backend" }""";
        return $$"""
        {
          "workers": {{workers}},
          "listeners": [{ "name": "public", "address": "127.0.0.1", "port": 0 }],
          "admin": { "address": "127.0.0.1", "port": 0 },
          "limits": { {{limits}} },
          "clusters": { "backend": { "endpoints": [{{endpoints}}] {{cluster}} } },
          "routes": [ {{routeList}} ]
          {{extra}}
        }
        """;
    }

    public static string Quote(params string[] endpoints) => string.Join(", ", endpoints.Select(e => $"\"{e}\""));
}
