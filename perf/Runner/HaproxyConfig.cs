namespace Gateway.Perf.Runner;

/// <summary>The HAProxy peer: one thread, HTTP mode, upstream connections reused (perf/README.md, set-up).</summary>
public static class HaproxyConfig
{
    /// <summary>
    /// HAProxy reserves two descriptors per connection and refuses to start when
    /// maxconn does not fit the open-file limit, so maxconn is derived from it: at a
    /// hard limit of 20,000 it holds at most ~9,950 connections, which the report shows.
    /// </summary>
    public static int MaxConnections(long openFileLimit) => (int)Math.Clamp((openFileLimit - 100) / 2, 256, 12_000);

    public static string Proxy(int port, int upstreamPort, long openFileLimit) => $$"""
    global
        nbthread 1
        maxconn {{MaxConnections(openFileLimit)}}

    defaults
        mode http
        option http-keep-alive
        http-reuse always
        timeout connect 5s
        timeout client 300s
        timeout server 300s
        timeout http-keep-alive 300s

    frontend public
        bind 127.0.0.1:{{port}}
        default_backend upstream

    backend upstream
        server u1 127.0.0.1:{{upstreamPort}}

    """;
}
