namespace Gateway.Configuration;

/// <summary>Config key <c>accessLog</c>: one JSON line per request, written off the workers.</summary>
public sealed record AccessLogConfig
{
    /// <summary>Applied on reload; <see cref="File"/> and <see cref="QueueCapacity"/> are read at start only.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Absolute path of a file to append to; null writes to stdout beside the process log.</summary>
    public string? File { get; init; }

    /// <summary>Lines waiting for the writer; a line that finds the queue full is dropped and counted.</summary>
    public int QueueCapacity { get; init; } = 8192;
}
