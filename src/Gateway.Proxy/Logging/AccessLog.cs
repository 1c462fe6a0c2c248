using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Logging;

/// <summary>
/// The access log: one JSON object per request, written off the workers. A worker only puts an entry into a
/// bounded queue (no formatting, no I/O); when the queue is full the entry is dropped and counted, so a slow
/// disk or a stalled stdout reader never slows a request. A background task formats entries and writes them
/// in batches of whole lines, at most 4 KiB per write so lines never interleave with the process log on a pipe.
/// </summary>
public sealed class AccessLog : IAsyncDisposable
{
    private const int MaxWriteBytes = 4096;

    private readonly Channel<AccessLogEntry> _queue;
    private readonly Stream _output;
    private readonly bool _ownsOutput;
    private long _written;
    private long _dropped;
    private readonly ILogger _logger;
    private readonly Task _writer;

    public AccessLog(Stream output, bool ownsOutput, int queueCapacity, ILogger logger)
    {
        _output = output;
        _ownsOutput = ownsOutput;
        _logger = logger;
        _queue = Channel.CreateBounded<AccessLogEntry>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails at once when full: the caller counts a drop
        });
        _writer = Task.Factory.StartNew(WriteLoopAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Queues one line; never blocks.</summary>
    internal void Write(in AccessLogEntry entry)
    {
        if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    public long Dropped => Interlocked.Read(ref _dropped);

    public void WritePrometheus(StringBuilder o)
    {
        o.Append("# HELP gateway_access_log_lines_total Access log lines, by outcome (dropped: the queue was full).\n# TYPE gateway_access_log_lines_total counter\n");
        o.Append(CultureInfo.InvariantCulture, $"gateway_access_log_lines_total{{outcome=\"written\"}} {Interlocked.Read(ref _written)}\n");
        o.Append(CultureInfo.InvariantCulture, $"gateway_access_log_lines_total{{outcome=\"dropped\"}} {Interlocked.Read(ref _dropped)}\n");
    }

    private async Task WriteLoopAsync()
    {
        var batch = new ArrayBufferWriter<byte>(MaxWriteBytes * 2);
        var line = new ArrayBufferWriter<byte>(1024);
        using var json = new Utf8JsonWriter(line);
        bool failed = false;
        ChannelReader<AccessLogEntry> reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out AccessLogEntry entry))
            {
                line.ResetWrittenCount();
                json.Reset(line);
                Format(json, entry);
                json.Flush();
                line.GetSpan(1)[0] = (byte)'\n';
                line.Advance(1);
                if (batch.WrittenCount + line.WrittenCount > MaxWriteBytes && batch.WrittenCount > 0)
                {
                    failed = !await FlushAsync(batch, failed);
                }
                batch.Write(line.WrittenSpan);
                Interlocked.Increment(ref _written);
            }
            if (batch.WrittenCount > 0)
            {
                failed = !await FlushAsync(batch, failed);
            }
        }
    }

    private async ValueTask<bool> FlushAsync(ArrayBufferWriter<byte> batch, bool failedBefore)
    {
        try
        {
            await _output.WriteAsync(batch.WrittenMemory);
            await _output.FlushAsync();
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException)
        {
            if (!failedBefore)
            {
                // Once per outage: the log line would otherwise repeat for every batch.
                EdgeLog.AccessLogWriteFailed(_logger, e.Message);
            }
            return false;
        }
        finally
        {
            batch.ResetWrittenCount();
        }
    }

    private static void Format(Utf8JsonWriter json, in AccessLogEntry e)
    {
        json.WriteStartObject();
        json.WriteString("time", e.Time.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        json.WriteString("type", "access");
        json.WriteString("listener", e.Listener);
        if (e.Route is null)
        {
            json.WriteNull("route");
        }
        else
        {
            json.WriteString("route", e.Route);
        }
        json.WriteString("method", e.Method);
        json.WriteString("path", e.Path);
        json.WriteNumber("status", e.Status);
        json.WriteNumber("requestBytes", e.RequestBytes);
        json.WriteNumber("responseBytes", e.ResponseBytes);
        json.WriteNumber("durationUs", e.DurationMicros);
        if (e.Upstream is null)
        {
            json.WriteNull("upstream");
        }
        else
        {
            json.WriteString("upstream", e.Upstream);
        }
        json.WriteString("plugins", e.Plugins);
        json.WriteString("requestId", e.RequestId);
        json.WriteString("client", e.Client?.ToString() ?? "");
        json.WriteEndObject();
    }

    /// <summary>Writes what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_ownsOutput)
        {
            await _output.DisposeAsync();
        }
    }
}
