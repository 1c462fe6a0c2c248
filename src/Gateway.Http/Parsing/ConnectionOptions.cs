using System.Text;
using static Gateway.Http.Parsing.HttpGrammar;

namespace Gateway.Http.Parsing;

/// <summary>HOP-2, HOP-3: the options of every Connection line, parsed strictly.</summary>
internal struct ConnectionOptions
{
    public bool Close;
    public bool KeepAlive;
    public bool Upgrade;

    /// <summary>An option other than close, keep-alive and upgrade: it names a field this hop drops (HOP-2).</summary>
    public bool NamesField;

    /// <summary>An option names a field that HOP-3 protects; requests are refused for it, responses are not.</summary>
    public bool NamesProtectedField;

    public RequestRejection Add(ReadOnlySpan<byte> value)
    {
        // The values almost every peer sends, whole: one compare instead of the list walk.
        if (Ascii.EqualsIgnoreCase(value, "keep-alive"u8))
        {
            KeepAlive = true;
            return RequestRejection.None;
        }
        if (Ascii.EqualsIgnoreCase(value, "close"u8))
        {
            Close = true;
            return RequestRejection.None;
        }
        bool more = true;
        while (more)
        {
            ReadOnlySpan<byte> option = NextListElement(ref value, out more);
            if (!IsToken(option))
            {
                return RequestRejection.InvalidConnection;
            }
            if (Ascii.EqualsIgnoreCase(option, "close"u8))
            {
                Close = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
            {
                KeepAlive = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "upgrade"u8))
            {
                Upgrade = true;
            }
            else
            {
                NamesField = true;
                NamesProtectedField |= IsProtected(option);
            }
        }
        return RequestRejection.None;
    }

    /// <summary>
    /// HOP-3 [POLICY]: an option would make the next hop drop the field it names. Fields that carry framing,
    /// routing, credentials or the gateway's own forwarding information can never be removed that way.
    /// </summary>
    private static bool IsProtected(ReadOnlySpan<byte> option) =>
        Ascii.EqualsIgnoreCase(option, "host"u8)
        || Ascii.EqualsIgnoreCase(option, "content-length"u8)
        || Ascii.EqualsIgnoreCase(option, "transfer-encoding"u8)
        || Ascii.EqualsIgnoreCase(option, "authorization"u8)
        || Ascii.EqualsIgnoreCase(option, "via"u8)
        || Ascii.EqualsIgnoreCase(option, "forwarded"u8)
        || Ascii.EqualsIgnoreCase(option, "x-real-ip"u8)
        || (option.Length > 12 && Ascii.EqualsIgnoreCase(option[..12], "x-forwarded-"u8));
}
