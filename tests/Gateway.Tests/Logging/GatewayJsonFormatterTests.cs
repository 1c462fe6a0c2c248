using System.Text.Json;
using Gateway.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Logging;

public sealed class GatewayJsonFormatterTests
{
    [Fact]
    public void StructuredValueNamedLikeAFixedField_DoesNotRepeatTheKey()
    {
        var state = new List<KeyValuePair<string, object?>>
        {
            new("Plugin", "p"),
            new("Message", "the guest's own text"),
            new("Level", "also taken"),
            new("{OriginalFormat}", "[{Plugin}] {Message}"),
        };
        var entry = new LogEntry<List<KeyValuePair<string, object?>>>(LogLevel.Information, "Gateway.Plugins.p", new EventId(4000, "GuestMessage"), state, null, (s, e) => "[p] the guest's own text");
        using var writer = new StringWriter();
        new GatewayJsonFormatter().Write(entry, null, writer);

        var names = new List<string>();
        var reader = new Utf8JsonReader(System.Text.Encoding.UTF8.GetBytes(writer.ToString().Trim()));
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                names.Add(reader.GetString()!);
            }
        }
        Assert.Equal(names.Count, names.Distinct().Count());
        using var json = JsonDocument.Parse(writer.ToString());
        Assert.Equal("[p] the guest's own text", json.RootElement.GetProperty("message").GetString());
        Assert.Equal("the guest's own text", json.RootElement.GetProperty("value.message").GetString());
        Assert.Equal("info", json.RootElement.GetProperty("level").GetString());
    }
}
