using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

// yarp-peer <listen port> <upstream host:port>
// Everything the comparison needs and nothing more: one catch-all route to one
// HTTP/1.1 destination, pooled keep-alive upstream connections (SocketsHttpHandler's
// default), no logging on the request path.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: YarpPeer <listen port> <upstream host:port>");
    return 2;
}
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, int.Parse(args[0])));
builder.Services.AddReverseProxy().LoadFromMemory(
    [new RouteConfig { RouteId = "all", ClusterId = "upstream", Match = new RouteMatch { Path = "{**rest}" } }],
    [new ClusterConfig
    {
        ClusterId = "upstream",
        Destinations = new Dictionary<string, DestinationConfig> { ["u"] = new() { Address = "http://" + args[1] } },
        // The upstream speaks HTTP/1.1 only: say so rather than let the client negotiate.
        HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
    }]);
var app = builder.Build();
app.MapReverseProxy();
app.Run();
return 0;
