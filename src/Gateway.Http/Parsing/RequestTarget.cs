using System.Text;
using Gateway.Http.Messages;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>The request-target forms of RFC 9112 §3.2 and the octet rules RL-4, RL-5, RL-7 and H-4.</summary>
internal static class RequestTarget
{
    /// <summary>Fills <see cref="HttpRequestHead.Target"/> (origin-form) and, for absolute-form, the authority.</summary>
    public static RequestRejection Parse(ReadOnlySpan<byte> target, string method, HttpRequestHead head, out string? authority)
    {
        authority = null;
        if (target[0] == (byte)'/')
        {
            RequestRejection originForm = Validate(target);
            if (originForm == RequestRejection.None)
            {
                head.Target = target.Length == 1 ? "/" : Latin1StringCache.Current.Get(target);
            }
            return originForm;
        }
        if (target.Length == 1 && target[0] == (byte)'*')
        {
            // RL-4: asterisk-form belongs to OPTIONS only.
            if (!ReferenceEquals(method, HttpMethods.Options))
            {
                return RequestRejection.InvalidTarget;
            }
            head.Target = "*";
            return RequestRejection.None;
        }
        return ParseAbsoluteForm(target, method, head, out authority);
    }

    /// <summary>H-4: only http and https; the authority must satisfy H-3 and carry no userinfo.</summary>
    private static RequestRejection ParseAbsoluteForm(
        ReadOnlySpan<byte> target, string method, HttpRequestHead head, out string? authority)
    {
        authority = null;
        ReadOnlySpan<byte> rest;
        if (target.Length > 7 && Ascii.EqualsIgnoreCase(target[..7], "http://"u8))
        {
            head.Scheme = "http";
            rest = target[7..];
        }
        else if (target.Length > 8 && Ascii.EqualsIgnoreCase(target[..8], "https://"u8))
        {
            head.Scheme = "https";
            rest = target[8..];
        }
        else
        {
            // Authority-form (CONNECT only, which is not implemented), relative references, other schemes (RL-4).
            return RequestRejection.InvalidTarget;
        }
        int pathStart = rest.IndexOfAny((byte)'/', (byte)'?');
        ReadOnlySpan<byte> authorityBytes = pathStart < 0 ? rest : rest[..pathStart];
        if (authorityBytes.Contains((byte)'@'))
        {
            return RequestRejection.InvalidTarget; // userinfo
        }
        authority = Authority.Normalize(authorityBytes);
        if (authority is null)
        {
            return RequestRejection.InvalidHost;
        }
        ReadOnlySpan<byte> pathAndQuery = pathStart < 0 ? default : rest[pathStart..];
        if (pathAndQuery.IsEmpty)
        {
            // RFC 9112 §3.2.4: an empty path of an OPTIONS request is forwarded as "*".
            head.Target = ReferenceEquals(method, HttpMethods.Options) ? "*" : "/";
            return RequestRejection.None;
        }
        if (pathAndQuery[0] == (byte)'?')
        {
            RequestRejection query = Validate(pathAndQuery);
            if (query == RequestRejection.None)
            {
                head.Target = "/" + Encoding.Latin1.GetString(pathAndQuery);
            }
            return query;
        }
        RequestRejection path = Validate(pathAndQuery);
        if (path == RequestRejection.None)
        {
            head.Target = Latin1StringCache.Current.Get(pathAndQuery);
        }
        return path;
    }

    /// <summary>RL-5 on the whole path and query, RL-7 on the path.</summary>
    private static RequestRejection Validate(ReadOnlySpan<byte> pathAndQuery)
    {
        if (pathAndQuery.ContainsAnyExcept(TargetChars) || !Authority.HasValidPercentEncoding(pathAndQuery))
        {
            return RequestRejection.InvalidTarget;
        }
        int query = pathAndQuery.IndexOf((byte)'?');
        ReadOnlySpan<byte> path = query < 0 ? pathAndQuery : pathAndQuery[..query];
        return HasAmbiguousSegments(path) ? RequestRejection.AmbiguousPath : RequestRejection.None;
    }

    /// <summary>
    /// RL-7 [POLICY]: an encoded NUL and double encoding ("%25" + hex) mean something else to every hop that decodes
    /// once more, and no normalization makes them safe, so they are refused here. Dot segments, encoded unreserved
    /// characters, repeated and encoded slashes are resolved before routing (Paths/PathNormalizer), so the path
    /// routed on is the path forwarded.
    /// </summary>
    private static bool HasAmbiguousSegments(ReadOnlySpan<byte> path)
    {
        for (int i = path.IndexOf((byte)'%'); i >= 0; i = NextPercent(path, i))
        {
            int decoded = HexValue(path[i + 1]) * 16 + HexValue(path[i + 2]);
            switch (decoded)
            {
                case 0:
                    return true;
                case '%' when i + 4 < path.Length && IsHexDigit(path[i + 3]) && IsHexDigit(path[i + 4]):
                    return true;
            }
        }
        return false;
    }

    private static int NextPercent(ReadOnlySpan<byte> path, int i)
    {
        int next = path[(i + 3)..].IndexOf((byte)'%');
        return next < 0 ? -1 : i + 3 + next;
    }
}
