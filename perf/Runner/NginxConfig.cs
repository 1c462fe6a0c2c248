namespace Gateway.Perf.Runner;

/// <summary>
/// nginx configurations for the trivial upstream and for the nginx peer. One
/// process (master_process off, one worker loop) so its CPU time is one PID's;
/// keep-alive kept for a million requests so no side closes connections mid-run.
/// </summary>
public static class NginxConfig
{
    public static string Upstream(string folder, int port) => Common(folder) + $$"""
        server {
            listen 127.0.0.1:{{port}} backlog=4096;
            location / { return 200 "Hello, World!"; }
        }
    }
    """;

    /// <summary>
    /// The nginx peer. With <paramref name="forwardingFields"/> it also does what the gateway does to every request it
    /// forwards (docs/http1-rules.md, FW): X-Forwarded-For set to the client's address, X-Forwarded-Proto, a new
    /// X-Request-Id (nginx's <c>$request_id</c>: 16 random bytes in hex), and the client's X-Forwarded-Host,
    /// X-Forwarded-Port and Forwarded removed.
    /// </summary>
    public static string Proxy(string folder, int port, int upstreamPort, bool forwardingFields = false) => Common(folder) + $$"""
        upstream backend {
            server 127.0.0.1:{{upstreamPort}};
            keepalive 256;
            keepalive_requests 1000000;
        }
        server {
            listen 127.0.0.1:{{port}} backlog=4096;
            location / {
                proxy_pass http://backend;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
                {{(forwardingFields ? ForwardingFields : "")}}
            }
        }
    }
    """;

    private const string ForwardingFields = """
        proxy_set_header X-Forwarded-For $remote_addr;
                proxy_set_header X-Forwarded-Proto $scheme;
                proxy_set_header X-Request-Id $request_id;
                proxy_set_header X-Forwarded-Host "";
                proxy_set_header X-Forwarded-Port "";
                proxy_set_header Forwarded "";
        """;

    /// <summary>
    /// The peer terminating TLS with the gateway's certificate: TLS 1.2 and 1.3 as the gateway offers, no session cache
    /// or tickets (the loader never resumes, so every handshake of the handshake phase is a full one on both).
    /// </summary>
    public static string TlsProxy(string folder, int port, int upstreamPort, string certFile, string keyFile) => Common(folder) + $$"""
        upstream backend {
            server 127.0.0.1:{{upstreamPort}};
            keepalive 256;
            keepalive_requests 1000000;
        }
        server {
            listen 127.0.0.1:{{port}} ssl backlog=4096;
            ssl_certificate {{certFile}};
            ssl_certificate_key {{keyFile}};
            ssl_protocols TLSv1.2 TLSv1.3;
            ssl_session_cache off;
            ssl_session_tickets off;
            location / {
                proxy_pass http://backend;
                proxy_http_version 1.1;
                proxy_set_header Connection "";
            }
        }
    }
    """;

    private static string Common(string folder) => $$"""
    daemon off;
    master_process off;
    worker_processes 1;
    worker_rlimit_nofile 20000;
    error_log {{folder}}/nginx-error.log warn;
    pid {{folder}}/nginx-{{Guid.NewGuid():N}}.pid;
    events { worker_connections 16000; }
    http {
        access_log off;
        keepalive_requests 1000000;
        keepalive_timeout 300s;
        client_body_temp_path {{folder}};
        proxy_temp_path {{folder}};
        fastcgi_temp_path {{folder}};
        uwsgi_temp_path {{folder}};
        scgi_temp_path {{folder}};

    """;
}
