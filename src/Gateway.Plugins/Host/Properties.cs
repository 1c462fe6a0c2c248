using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Contexts;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Host;

/// <summary>
/// Property paths (docs/proxy-wasm.md, 'Other imports'): segments separated by NUL; one trailing NUL (C++ SDK) is dropped and any other empty
/// segment is refused, so writers and readers of every SDK agree on the key.
/// </summary>
internal static class PropertyPath
{
    public static bool TryNormalize(ReadOnlySpan<byte> raw, out string path)
    {
        if (raw.Length > 0 && raw[^1] == 0)
        {
            raw = raw[..^1];
        }
        path = Encoding.UTF8.GetString(raw);
        if (path.Length == 0 || path[0] == '\0' || path[^1] == '\0' || path.Contains("\0\0", StringComparison.Ordinal))
        {
            return false;
        }
        return true;
    }
}

/// <summary>The well-known properties of docs/proxy-wasm.md, 'Other imports' that an HTTP/1.1 gateway knows, then the stream's property bag (docs/proxy-wasm.md, 'Other imports').</summary>
internal static class Properties
{
    public static WasmResult TryGet(PluginVm vm, string path, out byte[] value)
    {
        value = [];
        var context = vm.Effective;
        var plugin = context?.Plugin ?? vm.Group.Plugins[0];
        var stream = (context as StreamContext)?.Stream;
        // first NUL second NUL rest: the rest (a header name may hold dots) is read with its NULs as dots.
        ReadOnlySpan<char> first = path;
        ReadOnlySpan<char> second = [];
        string? rest = null;
        if (first.IndexOf('\0') is int cut and >= 0)
        {
            second = first[(cut + 1)..];
            first = first[..cut];
            if (second.IndexOf('\0') is int next and >= 0)
            {
                rest = second[(next + 1)..].ToString().Replace('\0', '.');
                second = second[..next];
            }
        }

        byte[]? known = first switch
        {
            "plugin_name" => Utf8(plugin.Name),
            "plugin_root_id" => Utf8(plugin.Options.RootId),
            "plugin_vm_id" => Utf8(plugin.Options.VmId),
            "plugin_vm_memory" => UInt64((ulong)vm.MemoryLength),
            "listener_direction" => Int64(1),
            "node" => second switch
            {
                "id" => Utf8(vm.Runtime.Services.NodeId),
                "cluster" => Utf8("gateway"),
                _ => null,
            },
            _ => null,
        };
        if (known is null && stream is not null)
        {
            known = first switch
            {
                "cluster_name" => Utf8(stream.Info.ClusterName),
                "route_name" => Utf8(stream.Info.RouteName),
                "xds" => second switch
                {
                    "cluster_name" => Utf8(stream.Info.ClusterName),
                    "route_name" => Utf8(stream.Info.RouteName),
                    _ => null,
                },
                "request" => Request(stream, second, rest),
                "response" => Response(stream, second, rest),
                "source" => Endpoint(stream.Info.Source, stream.Info.SourceAddress, second),
                "destination" => Endpoint(stream.Info.Destination, stream.Info.DestinationAddress, second),
                "connection" => Connection(stream.Info.Tls, second),
                _ => null,
            };
        }
        if (known is not null)
        {
            value = known;
            return WasmResult.Ok;
        }
        if (stream?.Properties is { } bag && bag.TryGetValue(path, out var stored))
        {
            value = stored;
            return WasmResult.Ok;
        }
        return WasmResult.NotFound;
    }

    /// <summary>Envoy's connection properties: TLS facts of the client connection; mtls is false on a plain one.</summary>
    private static byte[]? Connection(ConnectionTls? tls, ReadOnlySpan<char> field) => field switch
    {
        "mtls" => [tls?.Mtls == true ? (byte)1 : (byte)0],
        "tls_version" => tls is null ? null : Utf8(tls.Version),
        "subject_peer_certificate" => tls?.PeerSubject is { } subject ? Utf8(subject) : null,
        "requested_server_name" => tls?.RequestedServerName is { } name ? Utf8(name) : null,
        _ => null,
    };

    private static byte[]? Request(PluginStream stream, ReadOnlySpan<char> field, string? rest)
    {
        var request = stream.Request;
        switch (field)
        {
            case "id":
                return Utf8(stream.Info.RequestIds?.RequestId ?? "");
            case "protocol":
                return Utf8(stream.Info.Protocol);
            case "time":
                return Int64((stream.StartTime - DateTimeOffset.UnixEpoch).Ticks * 100);
            case "duration":
                return Int64(Stopwatch.GetElapsedTime(stream.StartTimestamp).Ticks * 100);
            case "size":
                return Int64(stream.RequestBodyBytes);
        }
        if (request is null)
        {
            return null;
        }
        string target = request.Target;
        int q = target.IndexOf('?');
        return field switch
        {
            "path" => Latin1(target),
            "url_path" => Latin1(q < 0 ? target : target[..q]),
            "query" => Latin1(q < 0 ? "" : target[(q + 1)..]),
            "host" => Latin1(request.Authority),
            "scheme" => Latin1(request.Scheme),
            "method" => Latin1(request.Method),
            "referer" => Joined(request.Headers, "referer"),
            "useragent" => Joined(request.Headers, "user-agent"),
            "headers" => rest is null ? Map(new HeaderMap(request, true)) : Joined(request.Headers, rest.ToLowerInvariant()),
            "total_size" => Int64(stream.RequestBodyBytes + HeaderBytes(request.Headers)),
            _ => null,
        };
    }

    private static byte[]? Response(PluginStream stream, ReadOnlySpan<char> field, string? rest)
    {
        var response = stream.Response;
        if (field is "size")
        {
            return Int64(stream.ResponseBodyBytes);
        }
        if (field is "flags")
        {
            return Int64(0);
        }
        if (response is null)
        {
            return null;
        }
        return field switch
        {
            "code" => Int64(response.StatusCode),
            "code_details" => Utf8("via_upstream"),
            "headers" => rest is null ? Map(new HeaderMap(response, true)) : Joined(response.Headers, rest.ToLowerInvariant()),
            "trailers" => stream.ResponseTrailers is { } trailers ? Map(new HeaderMap(trailers, true)) : null,
            "total_size" => Int64(stream.ResponseBodyBytes + HeaderBytes(response.Headers)),
            _ => null,
        };
    }

    /// <summary>The address (<paramref name="address"/>, made once per connection) or the port as int64.</summary>
    private static byte[]? Endpoint(IPEndPoint? endpoint, byte[]? address, ReadOnlySpan<char> field) => endpoint is null ? null : field switch
    {
        "address" => address,
        "port" => Int64(endpoint.Port),
        _ => null,
    };

    /// <summary><c>ip:port</c>, IPv6 as <c>[addr]:port</c> (docs/proxy-wasm.md, 'Other imports').</summary>
    internal static byte[] Address(IPEndPoint endpoint) => Utf8(endpoint.Address.AddressFamily == AddressFamily.InterNetworkV6
        ? $"[{endpoint.Address}]:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}"
        : $"{endpoint.Address}:{endpoint.Port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>All values of a header joined with <c>,</c> (docs/proxy-wasm.md, 'Other imports').</summary>
    private static byte[]? Joined(HeaderCollection headers, string name)
    {
        int i = headers.IndexOf(name, 0);
        if (i < 0)
        {
            return null;
        }
        var value = new StringBuilder(headers[i].Value);
        while ((i = headers.IndexOf(name, i + 1)) >= 0)
        {
            value.Append(',').Append(headers[i].Value);
        }
        return Latin1(value.ToString());
    }

    private static byte[] Map(HeaderMap map)
    {
        var pairs = new List<KeyValuePair<string, string>>();
        map.CopyTo(pairs);
        var bytes = new byte[HeaderPairs.SerializedSize(pairs)];
        HeaderPairs.Write(pairs, bytes);
        return bytes;
    }

    private static long HeaderBytes(HeaderCollection headers)
    {
        long total = 0;
        for (int i = 0; i < headers.Count; i++)
        {
            total += headers[i].Key.Length + headers[i].Value.Length + 4;
        }
        return total;
    }

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    private static byte[] Latin1(string value) => Encoding.Latin1.GetBytes(value);

    /// <summary>Integers are always 8 bytes little-endian (docs/proxy-wasm.md, 'Other imports').</summary>
    private static byte[] Int64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] UInt64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }
}
