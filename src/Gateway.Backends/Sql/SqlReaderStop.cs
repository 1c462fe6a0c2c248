using System.Data.Common;

namespace Gateway.Backends.Sql;

/// <summary>
/// Ends a result the gateway no longer wants (row or byte limit reached). Closing a reader makes
/// both drivers read every remaining row, so a huge result is cancelled server-side instead; a
/// result that ends within a few more rows is just read to its end, which is cheaper than the extra
/// connection a cancellation opens.
/// </summary>
internal static class SqlReaderStop
{
    private const int RowsReadBeforeCancelling = 64;

    /// <returns>True when the statement was cancelled (the reader then ends with the driver's cancellation error).</returns>
    public static async ValueTask<bool> StopAsync(DbCommand command, DbDataReader reader, CancellationToken ct)
    {
        for (var i = 0; i < RowsReadBeforeCancelling; i++)
        {
            if (!await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                return false;
            }
        }

        try
        {
            // Npgsql sends PostgreSQL's cancel request; MySqlConnector issues KILL QUERY for this connection.
            command.Cancel();
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException)
        {
            // The reader is then read to its end by Dispose: slower, still correct.
        }

        return true;
    }

    public static async ValueTask DisposeAsync(DbDataReader reader, bool stopped)
    {
        try
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception) when (stopped)
        {
            // The error reporting the cancelled remainder: expected.
        }
    }
}
