using System.Text.Json;
using Gateway.Perf.Load;

// Standalone use (the scenario runner calls the same classes in-process):
//   loadgen open   <host:port> <rate> <seconds> <connections> [path]
//   loadgen closed <host:port> <connections> <seconds> [path]
//   loadgen saturate <host:port> <connections> <seconds> [path]    (one thread over epoll; see SaturationRun)
// Prints one LoadResult as JSON; exits 1 when the run failed.
if (args.Length < 4)
{
    Console.Error.WriteLine("usage: loadgen open <host:port> <rate> <seconds> <connections> [path]\n" +
                            "       loadgen closed <host:port> <connections> <seconds> [path]\n" +
                            "       loadgen saturate <host:port> <connections> <seconds> [path]");
    return 2;
}
var endPoint = args[1].Split(':');
var open = args[0] == "open";
var pathIndex = open ? 5 : 4;
var template = new RequestTemplate(endPoint[0], int.Parse(endPoint[1]), args.Length > pathIndex ? args[pathIndex] : "/", []);
LoadResult result = args[0] switch
{
    "open" => new OpenLoopRun(template, double.Parse(args[2]), TimeSpan.FromSeconds(double.Parse(args[3])), int.Parse(args[4])).Run(),
    "closed" => new ClosedLoopRun(template, TimeSpan.FromSeconds(double.Parse(args[3])), int.Parse(args[2])).Run(),
    "saturate" => new SaturationRun(template, TimeSpan.FromSeconds(double.Parse(args[3])), int.Parse(args[2])).Run(),
    _ => throw new ArgumentException("mode must be open, closed or saturate"),
};
Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
return result.Failed ? 1 : 0;
