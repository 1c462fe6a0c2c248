using System.Text;
using Gateway.Backends.Sql;
using Gateway.Testing;
using Gateway.Testing.Sql;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

/// <summary>TLS to the database on both providers: the connection string's SSL Mode, the server verified against caFile.</summary>
public sealed class SqlTlsTests : IDisposable
{
    private readonly TestCertificateAuthority _certificates = TestCertificateAuthority.Create();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task MariaDb_VerifiedAgainstCaFile_AndRefusedWithAnotherCa()
    {
        await using var server = await MariaDbServer.StartAsync(
            [$"--ssl-ca={_certificates.CaFile}", $"--ssl-cert={_certificates.ServerCertFile}", $"--ssl-key={_certificates.ServerKeyFile}"]);
        var connectionString = $"Server=127.0.0.1;Port={server.Port};Database={server.Database};User ID={server.User};SSL Mode=VerifyFull";
        const string Cipher = "SELECT VARIABLE_VALUE AS cipher FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'";

        var cipher = await RunAsync(DatabaseProvider.MySql, connectionString, server.Password, _certificates.CaFile, Cipher);
        Assert.True(cipher.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(cipher.Body));
        Assert.False(string.IsNullOrEmpty((string?)SqlWire.Decode(cipher.Body).Rows.Single()[0]));

        var refused = await RunAsync(DatabaseProvider.MySql, connectionString, server.Password, _certificates.OtherCaFile, Cipher);
        Assert.Equal(SqlCallStatus.BackendError, refused.Status);
        Assert.DoesNotContain(server.Password, Encoding.UTF8.GetString(refused.Body));
    }

    [Fact]
    public async Task Postgres_VerifiedAgainstCaFile_AndRefusedWithAnotherCa()
    {
        await PostgresServer.GiveToServerAsync(_certificates.Directory);
        await using var server = await PostgresServer.StartAsync(
            ["ssl=on", $"ssl_cert_file={_certificates.ServerCertFile}", $"ssl_key_file={_certificates.ServerKeyFile}"]);
        var connectionString = server.ConnectionString + ";SSL Mode=VerifyFull";
        const string Ssl = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

        var ssl = await RunAsync(DatabaseProvider.PostgreSql, connectionString, server.Password, _certificates.CaFile, Ssl);
        Assert.True(ssl.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(ssl.Body));
        Assert.Equal(true, SqlWire.Decode(ssl.Body).Rows.Single()[0]);

        var refused = await RunAsync(DatabaseProvider.PostgreSql, connectionString, server.Password, _certificates.OtherCaFile, Ssl);
        Assert.Equal(SqlCallStatus.BackendError, refused.Status);
    }

    private static async Task<SqlResult> RunAsync(DatabaseProvider provider, string connectionString, string password, string caFile, string sql)
    {
        await using var registry = BackendRegistry.Create([],
            [new DatabaseOptions
            {
                Name = "tls",
                Provider = provider,
                ConnectionString = connectionString,
                Password = password,
                CaFile = caFile,
                TimeoutMs = 5000,
                Statements = new Dictionary<string, StatementOptions> { ["probe"] = new() { Sql = sql } },
            }],
            NullLoggerFactory.Instance);
        await registry.CheckAsync(Ct);
        return await registry.FindDatabase("tls")!.ExecuteAsync("probe", default, 0);
    }
}
