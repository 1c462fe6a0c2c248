using System.Net;
using System.Net.Sockets;

namespace Gateway.Perf.Load;

/// <summary>
/// One keep-alive HTTP/1.1 client connection with blocking I/O, driven by its own
/// thread: a blocking receive wakes exactly the thread that waits for the
/// response, so the measured time has no thread-pool hop in it. One request is
/// outstanding at a time; a closed connection is reopened before the next one.
/// </summary>
public sealed class LoadConnection : IDisposable
{
    private readonly IPEndPoint _endPoint;
    private readonly RequestTemplate _template;
    private readonly byte[] _request;
    private readonly byte[] _receive = new byte[64 * 1024];
    private Socket? _socket;
    private int _buffered;

    private readonly int _receiveTimeoutMs;

    /// <param name="receiveTimeoutMs">
    /// Bounds every wait for a response: a proxy that accepts a connection and never answers
    /// (HAProxy past maxconn leaves it in the backlog) must fail the request, not hang the run.
    /// </param>
    public LoadConnection(RequestTemplate template, int receiveTimeoutMs = 10_000)
    {
        _template = template;
        _receiveTimeoutMs = receiveTimeoutMs;
        _endPoint = new IPEndPoint(IPAddress.Parse(template.Host), template.Port);
        _request = new byte[template.MaxLength];
    }

    /// <summary>Connections opened, counting reconnects: a proxy that closes kept-alive connections shows here.</summary>
    public int Connects { get; private set; }

    public void Open()
    {
        if (_socket is not null)
        {
            return;
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = _receiveTimeoutMs,
            SendTimeout = _receiveTimeoutMs,
        };
        try
        {
            socket.Connect(_endPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        _buffered = 0;
        Connects++;
    }

    /// <summary>Sends request <paramref name="index"/> and blocks until its response is complete; returns the status code.</summary>
    public int Exchange(long index)
    {
        Open();
        var socket = _socket!;
        try
        {
            var length = _template.Write(_request, index);
            var sent = 0;
            while (sent < length)
            {
                sent += socket.Send(_request, sent, length - sent, SocketFlags.None);
            }
            while (true)
            {
                var outcome = ResponseFraming.TryFrame(_receive.AsSpan(0, _buffered), out var responseLength, out var status, out var close);
                if (outcome == ResponseFraming.Outcome.Complete)
                {
                    Consume(responseLength);
                    if (close)
                    {
                        Close();
                    }
                    return status;
                }
                if (outcome == ResponseFraming.Outcome.Malformed || _buffered == _receive.Length)
                {
                    throw new InvalidDataException("malformed or oversized response");
                }
                var read = socket.Receive(_receive, _buffered, _receive.Length - _buffered, SocketFlags.None);
                if (read == 0)
                {
                    throw new IOException("connection closed before the response was complete");
                }
                _buffered += read;
            }
        }
        catch
        {
            Close();
            throw;
        }
    }

    private void Consume(int length)
    {
        // Only one request is outstanding, so anything left over would be a protocol error upstream;
        // keep it so the next TryFrame reports it rather than silently dropping bytes.
        _buffered -= length;
        if (_buffered > 0)
        {
            Buffer.BlockCopy(_receive, length, _receive, 0, _buffered);
        }
    }

    public void Close()
    {
        _socket?.Dispose();
        _socket = null;
        _buffered = 0;
    }

    public void Dispose() => Close();
}
