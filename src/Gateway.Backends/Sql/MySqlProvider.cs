using System.Data.Common;
using System.Net.Sockets;
using MySqlConnector;

namespace Gateway.Backends.Sql;

/// <summary>MySQL and MariaDB through MySqlConnector (one pool per database, <c>?</c> placeholders).</summary>
internal sealed class MySqlProvider : SqlProvider
{
    private readonly MySqlDataSource _dataSource;
    private readonly Func<MySqlProvidePasswordContext, string>? _passwordFromFile;

    public MySqlProvider(DatabaseOptions options)
    {
        var connectionString = new MySqlConnectionStringBuilder(options.ConnectionString)
        {
            MaximumPoolSize = (uint)options.MaxPoolSize,
            MinimumPoolSize = (uint)options.KeptOpen,
            // Values are mapped by column type; these keep the driver from reinterpreting them.
            GuidFormat = MySqlGuidFormat.None,
            TreatTinyAsBoolean = true,
            AllowZeroDateTime = true,
            // Statements are single auto-committed commands that leave no session state behind, and the
            // session time zone set once per physical connection must survive the return to the pool.
            ConnectionReset = false,
        };
        if (string.IsNullOrEmpty(connectionString.ApplicationName))
        {
            connectionString.ApplicationName = "gateway";
        }

        if (options.CaFile is not null)
        {
            connectionString.SslCa = options.CaFile;
        }

        if (options.PasswordFile is null && options.Password is not null)
        {
            connectionString.Password = options.Password;
        }

        if (options.PasswordFile is not null)
        {
            // Read for every new physical connection, so a rotated file applies without dropping pooled ones.
            var file = new SecretFile(options.PasswordFile);
            _passwordFromFile = _ => file.Read();
        }

        var builder = new MySqlDataSourceBuilder(connectionString.ConnectionString);
        builder.UseConnectionOpenedCallback(static async (context, ct) =>
        {
            if ((context.Conditions & MySqlConnectionOpenedConditions.New) != 0)
            {
                // TIMESTAMP values are then returned in UTC and written with 'Z', like PostgreSQL's timestamptz.
                await using var command = new MySqlCommand("SET time_zone = '+00:00'", context.Connection);
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        });
        _dataSource = builder.Build();
    }

    public override async ValueTask<DbConnection> OpenAsync(CancellationToken ct)
    {
        var connection = _dataSource.CreateConnection();
        connection.ProvidePasswordCallback = _passwordFromFile;
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// MySQL reports no parameter types, so every placeholder accepts every value tag and the server
    /// converts it; preparing the statement server-side still catches syntax errors and unknown tables.
    /// </summary>
    public override async Task<SqlParameterKind[]> DescribeAsync(string sql, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct).ConfigureAwait(false);
        // The SQL comes from the operator's configuration, never from a plugin; quoted as a string literal.
        var literal = "'" + sql.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
        await using (var prepare = new MySqlCommand("PREPARE gateway_describe FROM " + literal, (MySqlConnection)connection))
        {
            await prepare.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await using (var deallocate = new MySqlCommand("DEALLOCATE PREPARE gateway_describe", (MySqlConnection)connection))
        {
            await deallocate.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var kinds = new SqlParameterKind[MySqlPlaceholders.Count(sql)];
        Array.Fill(kinds, SqlParameterKind.Any);
        return kinds;
    }

    public override DbCommand? CreateCommand(DbConnection connection, string sql, ReadOnlySpan<byte> encodedParams, SqlParameterKind[] declared)
    {
        var command = new MySqlCommand(sql, (MySqlConnection)connection);
        if (!MySqlParameters.TryBind(encodedParams, declared, command.Parameters))
        {
            command.Dispose();
            return null;
        }

        return command;
    }

    public override SqlRowEncoder CreateEncoder(DbDataReader reader) => new MySqlRowEncoder((MySqlDataReader)reader);

    public override bool TryClassify(Exception ex, out SqlFailure failure)
    {
        switch (ex)
        {
            case MySqlException mysql:
                var sqlState = mysql.SqlState ?? "";
                // SQLSTATE class 22 = data exception: the database rejected a parameter value.
                var status = sqlState.StartsWith("22", StringComparison.Ordinal) ? SqlCallStatus.BadArgument : SqlCallStatus.BackendError;
                var diagnostic = sqlState.Length > 0 ? $"SQLSTATE {sqlState} (error {(int)mysql.ErrorCode})" : $"error {(int)mysql.ErrorCode}";
                failure = new SqlFailure(status, diagnostic, IsUnavailable(mysql, sqlState));
                return true;
            case SocketException or IOException:
                failure = new SqlFailure(SqlCallStatus.BackendError, "connection failure", Unavailable: true);
                return true;
            default:
                failure = default;
                return false;
        }
    }

    public override string Describe(Exception ex) => ex is MySqlException mysql ? $"{mysql.SqlState} {mysql.Message}" : ex.GetType().Name;

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>Connection (08) and authentication (28) classes, and the driver's own connection errors.</summary>
    private static bool IsUnavailable(MySqlException ex, string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal) || sqlState.StartsWith("28", StringComparison.Ordinal)
        || ex.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.ServerShutdown or MySqlErrorCode.ConnectionCountError
            or MySqlErrorCode.AccessDenied or MySqlErrorCode.ProvidePasswordCallbackFailed;
}
