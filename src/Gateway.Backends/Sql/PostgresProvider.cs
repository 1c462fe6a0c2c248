using System.Data.Common;
using System.Net.Sockets;
using Npgsql;

namespace Gateway.Backends.Sql;

/// <summary>PostgreSQL through Npgsql's AOT-safe slim data source (one pool per database).</summary>
internal sealed class PostgresProvider : SqlProvider
{
    private const string DescribeName = "gateway_describe";

    private readonly NpgsqlDataSource _dataSource;

    public PostgresProvider(DatabaseOptions options)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            MaxPoolSize = options.MaxPoolSize,
            MinPoolSize = options.KeptOpen,
            // Session settings that make PostgreSQL's text output the canonical form of the result encoding.
            Options = "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=1",
            // Keep every configured statement prepared on each physical connection.
            MaxAutoPrepare = Math.Clamp(options.Statements.Count * 2, 1, 256),
            AutoPrepareMinUsages = 2,
        };
        if (string.IsNullOrEmpty(connectionString.ApplicationName))
        {
            connectionString.ApplicationName = "gateway";
        }

        if (options.CaFile is not null)
        {
            connectionString.RootCertificate = options.CaFile;
        }

        if (options.PasswordFile is null && options.Password is not null)
        {
            connectionString.Password = options.Password;
        }

        var builder = new NpgsqlSlimDataSourceBuilder(connectionString.ConnectionString);
        builder.EnableTransportSecurity();
        if (options.PasswordFile is not null)
        {
            // Read for every new physical connection, so a rotated file applies without dropping pooled ones.
            var file = new SecretFile(options.PasswordFile);
            builder.UsePasswordProvider(_ => file.Read(), (_, ct) => file.ReadAsync(ct));
        }

        _dataSource = builder.Build();
    }

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct) =>
        await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);

    /// <summary>
    /// PostgreSQL's own inference (PREPARE + pg_prepared_statements), the same inference that binds
    /// the plugin's values, so the check cannot disagree with execution.
    /// </summary>
    public override async Task<SqlParameterKind[]> DescribeAsync(string sql, CancellationToken ct)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        // The SQL comes from the operator's configuration, never from a plugin.
        await using (var prepare = new NpgsqlCommand("PREPARE " + DescribeName + " AS " + sql, connection))
        {
            await prepare.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        var kinds = new List<SqlParameterKind>();
        try
        {
            await using var query = new NpgsqlCommand(
                "SELECT t.typname FROM pg_prepared_statements p CROSS JOIN LATERAL unnest(p.parameter_types) WITH ORDINALITY AS u(type, ordinal) " +
                "JOIN pg_type t ON t.oid = u.type::oid WHERE p.name = '" + DescribeName + "' ORDER BY u.ordinal",
                connection);
            await using var reader = await query.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                kinds.Add(SqlParameterKinds.FromTypeName(reader.GetString(0)));
            }
        }
        finally
        {
            await using var deallocate = new NpgsqlCommand("DEALLOCATE " + DescribeName, connection);
            await deallocate.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return kinds.ToArray();
    }

    public override DbCommand? CreateCommand(DbConnection connection, string sql, ReadOnlySpan<byte> encodedParams, SqlParameterKind[] declared)
    {
        var command = new NpgsqlCommand(sql, (NpgsqlConnection)connection)
        {
            // Text format for every column: the canonical text of the result encoding for every type,
            // including those the AOT-slim driver has no binary reader for (numeric, intervals, arrays).
            AllResultTypesAreUnknown = true,
        };
        if (!SqlParameters.TryBind(encodedParams, declared, command.Parameters))
        {
            command.Dispose();
            return null;
        }

        return command;
    }

    public override SqlRowEncoder CreateEncoder(DbDataReader reader) => new PostgresRowEncoder((NpgsqlDataReader)reader);

    public override bool TryClassify(Exception ex, out SqlFailure failure)
    {
        switch (ex)
        {
            case PostgresException pg:
                // SQLSTATE class 22 = data exception: the database rejected a parameter value.
                var status = pg.SqlState.StartsWith("22", StringComparison.Ordinal) ? SqlCallStatus.BadArgument : SqlCallStatus.BackendError;
                failure = new SqlFailure(status, "SQLSTATE " + pg.SqlState, IsUnavailable(pg.SqlState));
                return true;
            case NpgsqlException or SocketException or IOException:
                failure = new SqlFailure(SqlCallStatus.BackendError, "connection failure", Unavailable: true);
                return true;
            default:
                failure = default;
                return false;
        }
    }

    public override string Describe(Exception ex) => ex is PostgresException pg ? pg.SqlState + " " + pg.MessageText : ex.GetType().Name;

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>Connection exceptions (08), insufficient resources (53), operator intervention (57P) and authentication (28) mean the database cannot serve.</summary>
    private static bool IsUnavailable(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState.StartsWith("57P", StringComparison.Ordinal) || sqlState.StartsWith("28", StringComparison.Ordinal);
}
