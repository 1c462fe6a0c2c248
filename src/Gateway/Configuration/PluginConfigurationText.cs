using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Configuration;

/// <summary>
/// The text a plugin receives as its configuration (docs/proxy-wasm.md): a JSON string gives its exact value,
/// anything else its compact JSON text, with non-ASCII left as is so guests see what the operator wrote.
/// </summary>
internal static class PluginConfigurationText
{
    private static readonly JsonWriterOptions Compact = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Of(JsonNode? node)
    {
        if (node is null)
        {
            return "";
        }

        if (node.GetValueKind() == JsonValueKind.String)
        {
            return node.GetValue<string>();
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Compact))
        {
            node.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
