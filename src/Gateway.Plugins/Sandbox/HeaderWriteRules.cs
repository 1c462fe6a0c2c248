using Gateway.Http;
using Gateway.Http.Messages;

namespace Gateway.Plugins.Sandbox;

/// <summary>
/// Decides whether a plugin may write one header into a message head, before anything is written: names and values
/// must be valid field syntax, pseudo-headers valid for the line they rebuild, and the head must stay within the
/// client limits (a head the gateway would refuse from a client is not one a plugin may build).
/// </summary>
internal static class HeaderWriteRules
{
    /// <summary>Bytes one field line takes on the wire besides its name and value: ": " and CRLF.</summary>
    private const int LineOverhead = 4;

    public static HeaderVerdict Check(
        HttpRequestHead? request, HttpResponseHead? response, HeaderCollection fields, string name, string value, bool replace, HttpLimits limits)
    {
        return Syntax(request, response, name, value) is { } verdict ? verdict
            : WithinLimits(fields, name, value, replace, limits) ? HeaderVerdict.Write : HeaderVerdict.TooLarge;
    }

    /// <summary>
    /// <see cref="Check"/> for a field added to a head of <paramref name="count"/> fields taking <paramref name="bytes"/>
    /// as written: an added field only grows the head, so the totals are all the limits need.
    /// </summary>
    public static HeaderVerdict CheckAdded(
        HttpRequestHead? request, HttpResponseHead? response, int count, long bytes, string name, string value, HttpLimits limits)
    {
        return Syntax(request, response, name, value) is { } verdict ? verdict
            : count + 1 <= limits.MaxHeaderCount && bytes + name.Length + value.Length + LineOverhead <= limits.MaxHeaderBytes
                ? HeaderVerdict.Write : HeaderVerdict.TooLarge;
    }

    /// <summary>The verdict on the field's syntax alone; null for an ordinary field, which the limits then decide.</summary>
    private static HeaderVerdict? Syntax(HttpRequestHead? request, HttpResponseHead? response, string name, string value)
    {
        if (!FieldRules.IsFieldValue(value))
        {
            return HeaderVerdict.Invalid;
        }
        if (name.Length > 0 && name[0] == ':')
        {
            return CheckPseudo(request, response, name, value);
        }
        if (!FieldRules.IsFieldName(name) || FieldRules.IsHopByHop(name))
        {
            return HeaderVerdict.Invalid;
        }
        if (FieldRules.IsFraming(name))
        {
            return HeaderVerdict.Ignore;
        }
        if (request is not null && name == "host")
        {
            return FieldRules.IsAuthority(value) ? HeaderVerdict.Write : HeaderVerdict.Invalid;
        }
        return null;
    }

    /// <summary>Checks a whole replacement map (names already lower case) against the same rules and the limits.</summary>
    public static HeaderVerdict CheckAll(
        HttpRequestHead? request, HttpResponseHead? response, HeaderCollection fields, List<KeyValuePair<string, string>> pairs, HttpLimits limits)
    {
        int count = 0;
        long bytes = 0;
        foreach (var (name, value) in pairs)
        {
            if (!FieldRules.IsFieldValue(value))
            {
                return HeaderVerdict.Invalid;
            }
            if (name.Length > 0 && name[0] == ':')
            {
                if (CheckPseudo(request, response, name, value) == HeaderVerdict.Invalid)
                {
                    return HeaderVerdict.Invalid;
                }
                continue;
            }
            if (!FieldRules.IsFieldName(name) || FieldRules.IsHopByHop(name)
                || (request is not null && name == "host" && !FieldRules.IsAuthority(value)))
            {
                return HeaderVerdict.Invalid;
            }
            count++;
            bytes += name.Length + value.Length + LineOverhead;
        }
        bool grows = count > fields.Count || bytes > ByteSize(fields);
        return grows && (count > limits.MaxHeaderCount || bytes > limits.MaxHeaderBytes) ? HeaderVerdict.TooLarge : HeaderVerdict.Write;
    }

    private static HeaderVerdict CheckPseudo(HttpRequestHead? request, HttpResponseHead? response, string name, string value)
    {
        if (request is not null)
        {
            bool valid = name switch
            {
                ":method" => IsAllowedMethod(request.Method, value),
                ":path" => FieldRules.IsOriginForm(value),
                ":authority" => FieldRules.IsAuthority(value),
                ":scheme" => value is "http" or "https",
                _ => false,
            };
            return valid ? HeaderVerdict.Write : HeaderVerdict.Invalid;
        }
        if (response is not null && name == ":status" && FieldRules.TryParseStatus(value, out int status))
        {
            // A body is on its way from the upstream: a status that forbids one would leave it to be read as the
            // next response on the client's connection.
            bool bodyFollows = response.Framing != BodyFraming.None;
            return bodyFollows && status is 204 or 304 ? HeaderVerdict.Invalid : HeaderVerdict.Write;
        }
        return HeaderVerdict.Invalid;
    }

    /// <summary>
    /// Any token, except that HEAD can neither be introduced nor removed (the client's framing expectation depends on
    /// it) and CONNECT never: it would turn the upstream connection into a tunnel.
    /// </summary>
    private static bool IsAllowedMethod(string current, string value) =>
        FieldRules.IsToken(value) && value != "CONNECT" && (current == "HEAD") == (value == "HEAD");

    private static bool WithinLimits(HeaderCollection fields, string name, string value, bool replace, HttpLimits limits)
    {
        int count = fields.Count;
        long bytes = ByteSize(fields);
        if (replace)
        {
            for (int i = 0; i < fields.Count; i++)
            {
                if (fields[i].Key == name)
                {
                    count--;
                    bytes -= fields[i].Key.Length + fields[i].Value.Length + LineOverhead;
                }
            }
        }
        int newCount = count + 1;
        long newBytes = bytes + name.Length + value.Length + LineOverhead;
        bool grows = newCount > fields.Count || newBytes > ByteSize(fields);
        return !grows || (newCount <= limits.MaxHeaderCount && newBytes <= limits.MaxHeaderBytes);
    }

    /// <summary>Bytes the fields take as written: "name: value" CRLF each.</summary>
    public static long ByteSize(HeaderCollection fields)
    {
        long bytes = 0;
        for (int i = 0; i < fields.Count; i++)
        {
            bytes += fields[i].Key.Length + fields[i].Value.Length + LineOverhead;
        }
        return bytes;
    }
}
