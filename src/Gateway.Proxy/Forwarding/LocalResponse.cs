using System.Buffers;
using Gateway.Http.Messages;

namespace Gateway.Proxy.Forwarding;

/// <summary>
/// Responses the gateway produces itself: errors (a small JSON body, its own Content-Length, and
/// <c>connection: close</c> when the connection will close, LIM) and plugin local replies.
/// </summary>
internal static class LocalResponse
{
    /// <summary>Writes an error response; returns the body bytes written (0 for HEAD), for the access log.</summary>
    public static int WriteError(IBufferWriter<byte> w, int status, string message, string requestId, bool close, bool headRequest = false)
    {
        // The message is a fixed text chosen by the gateway: attacker bytes are never echoed (LIM).
        string body = $"{{\"status\":{status},\"error\":\"{message}\",\"requestId\":\"{requestId}\"}}\n";
        w.Write("HTTP/1.1 "u8);
        HeadWriter.WriteNumber(w, status);
        w.Write(" "u8);
        HeadWriter.WriteLatin1(w, ReasonPhrases.For(status));
        w.Write("\r\ncontent-type: application/json\r\ncontent-length: "u8);
        HeadWriter.WriteNumber(w, body.Length);
        if (requestId.Length > 0)
        {
            w.Write("\r\nx-request-id: "u8);
            HeadWriter.WriteLatin1(w, requestId);
        }
        w.Write(close ? "\r\nconnection: close\r\n\r\n"u8 : "\r\n\r\n"u8);
        if (!headRequest)
        {
            // A HEAD response ends at its head: a body would be read as the next response on the connection.
            HeadWriter.WriteLatin1(w, body);
            return body.Length;
        }
        return 0;
    }

    /// <summary>
    /// A plugin's reply. Its body goes out only where one is allowed: never for HEAD, 204 or 304, and a 204 or 304
    /// carries no length either; other HEAD replies state the length the body would have had. Returns the body bytes
    /// written, for the access log.
    /// </summary>
    public static int WriteReply(IBufferWriter<byte> w, int status, HeaderCollection headers, ReadOnlySpan<byte> body, bool close, bool headRequest = false)
    {
        w.Write("HTTP/1.1 "u8);
        HeadWriter.WriteNumber(w, status);
        w.Write(" "u8);
        HeadWriter.WriteLatin1(w, ReasonPhrases.For(status));
        w.Write("\r\n"u8);
        for (int i = 0; i < headers.Count; i++)
        {
            var f = headers[i];
            if (f.Key is "content-length" or "transfer-encoding" or "connection")
            {
                continue;
            }
            HeadWriter.WriteLatin1(w, f.Key);
            w.Write(": "u8);
            HeadWriter.WriteLatin1(w, f.Value);
            w.Write("\r\n"u8);
        }
        bool bodiless = status is < 200 or 204 or 304;
        if (!bodiless)
        {
            w.Write("content-length: "u8);
            HeadWriter.WriteNumber(w, body.Length);
            w.Write("\r\n"u8);
        }
        w.Write(close ? "connection: close\r\n\r\n"u8 : "\r\n"u8);
        if (!bodiless && !headRequest)
        {
            w.Write(body);
            return body.Length;
        }
        return 0;
    }
}
