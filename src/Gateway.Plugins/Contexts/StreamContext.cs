using System.Text;
using Gateway.Http.Messages;
using Gateway.Plugins.Abi;
using Gateway.Plugins.Runtime;
using Gateway.Plugins.Vm;

namespace Gateway.Plugins.Contexts;

/// <summary>
/// One plugin's view of one HTTP exchange: its stream context (created in the guest lazily, at request headers),
/// its body buffers, and what it asked the host to do with the stream from inside a guest call.
/// </summary>
internal sealed class StreamContext(int id, PluginVm vm, PluginDefinition plugin, RootContext root, PluginStream stream, int index)
    : ProxyContext(id, vm, plugin)
{
    public override RootContext Root { get; } = root;

    public PluginStream Stream { get; } = stream;

    /// <summary>Position of this plugin in the route's chain.</summary>
    public int Index { get; } = index;

    /// <summary><c>proxy_on_context_create</c> ran for this id.</summary>
    public bool Created { get; set; }

    /// <summary>The plugin failed (trap, limit) with failure policy open: the stream goes on without it.</summary>
    public bool Bypassed { get; set; }

    public BodyBuffer RequestBody { get; } = new();

    public BodyBuffer ResponseBody { get; } = new();

    /// <summary><c>proxy_continue_stream</c> requests not yet applied (docs/proxy-wasm.md, 'Calls that wait': applied after the guest call returns).</summary>
    public bool ContinueRequest { get; set; }

    public bool ContinueResponse { get; set; }

    /// <summary><c>proxy_continue_stream</c>: resumes one direction once the guest call returns.</summary>
    public void Continue(bool request)
    {
        if (request)
        {
            ContinueRequest = true;
        }
        else
        {
            ContinueResponse = true;
        }
        Vm.Touch(this);
    }

    /// <summary><c>proxy_close_stream</c>: the exchange is reset once the guest call returns.</summary>
    public void Close()
    {
        Stream.Requests.Reset();
        Vm.Touch(this);
    }

    /// <summary>
    /// <c>proxy_send_local_response</c>, its arguments already checked against the host's limits. A body without a
    /// content-type is sent as text; whitespace in the details becomes '_', as Envoy writes response-code details.
    /// </summary>
    public void SendLocalReply(int status, HeaderCollection headers, byte[] body, string details)
    {
        if (body.Length > 0 && !headers.Contains("content-type"))
        {
            headers.Add("content-type", "text/plain");
        }
        var cleaned = new StringBuilder(details.Length);
        foreach (char ch in details)
        {
            cleaned.Append(char.IsWhiteSpace(ch) ? '_' : ch);
        }
        Stream.Requests.LocalReply(new LocalReply(status, headers, body, cleaned.ToString()));
        Vm.Touch(this);
    }

    /// <summary>
    /// <c>proxy_set_property</c>: the value is visible to every plugin of the stream. Two Higress control keys act
    /// as well: <c>wasm_need_rebuild = true</c> asks for a fresh VM, <c>clear_route_cache = off</c> keeps the route
    /// when the request headers change.
    /// </summary>
    public void SetProperty(string path, byte[] value)
    {
        (Stream.Properties ??= new(StringComparer.Ordinal))[path] = value;
        if (path == "wasm_need_rebuild" && value.AsSpan().SequenceEqual("true"u8))
        {
            Vm.RebuildRequested = true;
        }
        else if (path == "clear_route_cache" && value.AsSpan().SequenceEqual("off"u8))
        {
            Stream.Route.Keep();
        }
    }
}
