using Npgsql;

namespace Gateway.Backends;

/// <summary>Builds the AOT-safe Npgsql data source (one pool) for a database target.</summary>
internal static class SqlDataSourceFactory
{
    public static NpgsqlDataSource Create(DatabaseOptions options)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            MaxPoolSize = options.MaxPoolSize,
            // Session settings that make PostgreSQL's text output the canonical form of ABI §11.4.
            Options = "-c DateStyle=ISO -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=1",
            // Keep every configured statement prepared on each physical connection.
            MaxAutoPrepare = Math.Clamp(options.Statements.Count * 2, 1, 256),
            AutoPrepareMinUsages = 2,
        };
        if (string.IsNullOrEmpty(connectionString.ApplicationName))
        {
            connectionString.ApplicationName = "gateway";
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

        return builder.Build();
    }
}
