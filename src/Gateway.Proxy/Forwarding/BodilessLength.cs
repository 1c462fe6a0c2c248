namespace Gateway.Proxy.Forwarding;

/// <summary>
/// The Content-Length a response without a body tells the client. 1xx and 204 never carry one. HEAD and 304 keep the
/// upstream's (metadata about the representation). Any other status that arrives without a body, because a plugin
/// turned a 204 or 304 into one that allows a body, says 0: without a length, an HTTP/1.1 client would read the
/// connection to its end as the body.
/// </summary>
internal static class BodilessLength
{
    /// <summary>The length to write, or -1 for none.</summary>
    public static long Of(int status, bool headRequest, long upstreamLength)
    {
        if (status is < 200 or 204)
        {
            return -1;
        }
        if (headRequest || status == 304)
        {
            return upstreamLength > 0 ? upstreamLength : -1;
        }
        return 0;
    }
}
