using Gateway.Http;
using Gateway.Http.Messages;

namespace Gateway.Plugins.Sandbox;

/// <summary>
/// The headers of a plugin's local reply: valid syntax or the reply is refused; framing and connection fields are
/// dropped (the gateway frames the reply), pseudo-headers too (the status is an argument of its own).
/// </summary>
internal static class LocalReplyHeaders
{
    public static HeaderVerdict Build(List<KeyValuePair<string, string>> pairs, HeaderCollection headers, HttpLimits limits)
    {
        long bytes = 0;
        foreach (var (rawName, value) in pairs)
        {
            string name = rawName.ToLowerInvariant();
            if (name.Length > 0 && name[0] == ':')
            {
                continue;
            }
            if (!FieldRules.IsFieldName(name) || !FieldRules.IsFieldValue(value))
            {
                headers.Clear();
                return HeaderVerdict.Invalid;
            }
            if (FieldRules.IsFraming(name) || FieldRules.IsHopByHop(name))
            {
                continue;
            }
            bytes += name.Length + value.Length + 4;
            if (headers.Count + 1 > limits.MaxHeaderCount || bytes > limits.MaxHeaderBytes)
            {
                headers.Clear();
                return HeaderVerdict.TooLarge;
            }
            headers.Add(name, value);
        }
        return HeaderVerdict.Write;
    }
}
