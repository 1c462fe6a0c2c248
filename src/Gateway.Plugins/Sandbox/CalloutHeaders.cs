using Gateway.Http;
using Gateway.Http.Messages;

namespace Gateway.Plugins.Sandbox;

/// <summary>
/// Builds the request head of a plugin's <c>proxy_http_call</c>. Every name and value must be valid; the
/// pseudo-headers must make a valid request line. A plugin's framing and hop-by-hop fields, and <c>host</c>, are
/// never forwarded: the gateway frames the callout and writes its host from <c>:authority</c>.
/// </summary>
internal static class CalloutHeaders
{
    /// <param name="hasAuthority">Whether <c>:authority</c> was given; an empty one is allowed (the dispatcher then uses the endpoint's host).</param>
    public static HeaderVerdict Build(List<KeyValuePair<string, string>> pairs, HttpRequestHead request, HttpLimits limits, out bool hasAuthority)
    {
        hasAuthority = false;
        long bytes = 0;
        foreach (var (rawName, value) in pairs)
        {
            string name = rawName.ToLowerInvariant();
            if (!FieldRules.IsFieldValue(value))
            {
                return HeaderVerdict.Invalid;
            }
            switch (name)
            {
                case ":method":
                    if (!FieldRules.IsToken(value) || value == "CONNECT")
                    {
                        return HeaderVerdict.Invalid;
                    }
                    request.Method = value;
                    continue;
                case ":path":
                    if (!FieldRules.IsOriginForm(value))
                    {
                        return HeaderVerdict.Invalid;
                    }
                    request.Target = value;
                    continue;
                case ":authority":
                    if (value.Length > 0 && !FieldRules.IsAuthority(value))
                    {
                        return HeaderVerdict.Invalid;
                    }
                    request.Authority = value;
                    hasAuthority = true;
                    continue;
                case ":scheme":
                    if (value is not ("http" or "https"))
                    {
                        return HeaderVerdict.Invalid;
                    }
                    request.Scheme = value;
                    continue;
            }
            if (name.Length > 0 && name[0] == ':')
            {
                continue;
            }
            if (!FieldRules.IsFieldName(name))
            {
                return HeaderVerdict.Invalid;
            }
            if (FieldRules.IsFraming(name) || FieldRules.IsHopByHop(name) || name == "host")
            {
                continue;
            }
            bytes += name.Length + value.Length + 4;
            if (request.Headers.Count + 1 > limits.MaxHeaderCount || bytes > limits.MaxHeaderBytes)
            {
                return HeaderVerdict.TooLarge;
            }
            request.Headers.Add(name, value);
        }
        return HeaderVerdict.Write;
    }
}
