using System.Diagnostics;
using System.Text;
using Gateway.Backends.Sql;
using Gateway.Testing;
using Gateway.Testing.Sql;

namespace Gateway.Backends.Tests;

[Collection(PostgresFaultCollection.Name)]
public sealed class SqlFaultTests(PostgresFixture postgres)
{
    private readonly PostgresServer _server = postgres.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DatabaseOptions Options(PostgresServer server, string? password = null, string? passwordFile = null) => new()
    {
        Name = "accounts",
        ConnectionString = server.ConnectionString,
        Password = password,
        PasswordFile = passwordFile,
        TimeoutMs = 500,
        CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 3, OpenMs = 300 },
        Statements = new Dictionary<string, StatementOptions> { ["who"] = new() { Sql = "SELECT current_user AS who, $1::int8 AS n" } },
    };

    [Fact]
    public async Task DatabaseStopped_FailsFastThenCircuitOpens_AndRecoversAfterRestart()
    {
        var logs = new CapturingLoggerFactory();
        await using var registry = BackendRegistry.Create([], [Options(_server, password: _server.Password)], logs);
        Assert.Empty(await registry.CheckAsync(Ct));
        var database = registry.FindDatabase("accounts")!;
        Assert.Equal(SqlCallStatus.Ok, (await database.ExecuteAsync("who", SqlWire.Params(1), 0)).Status);

        await _server.StopAsync();
        try
        {
            var statuses = new List<SqlCallStatus>();
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                var result = await database.ExecuteAsync("who", SqlWire.Params(1), 0);
                // Bounded by the 500 ms call timeout (with room for a loaded machine): no call waits on the stopped server.
                Assert.True(watch.ElapsedMilliseconds <= 1500, $"call {i} took {watch.ElapsedMilliseconds} ms");
                Assert.DoesNotContain(_server.Password, Encoding.UTF8.GetString(result.Body));
                statuses.Add(result.Status);
            }

            Assert.All(statuses, s => Assert.True(s is SqlCallStatus.BackendError or SqlCallStatus.CircuitOpen or SqlCallStatus.Timeout, s.ToString()));
            Assert.Equal(SqlCallStatus.CircuitOpen, statuses[^1]);
            var metrics = new StringBuilder();
            registry.WritePrometheus(metrics);
            Assert.Contains("gateway_sql_circuit_state{target=\"accounts\"} 1\n", metrics.ToString());
        }
        finally
        {
            await _server.RestartAsync();
        }

        Assert.True(await UntilOkAsync(database), "no successful call within 20 s of the restart");
        Assert.DoesNotContain(_server.Password, logs.AllText);
    }

    [Fact]
    public async Task PasswordFileRotatedWithTheRole_NextCallsSucceed_AndNoSecretIsLogged()
    {
        const string rotated = "Pg-Rotated-Secret-93ab";
        var initial = _server.Password;
        using var directory = new TempFolder("gw-secret-");
        var passwordFile = directory.PathOf("password");
        await File.WriteAllTextAsync(passwordFile, initial + "\n", Ct);
        var logs = new CapturingLoggerFactory();
        try
        {
            await using var registry = BackendRegistry.Create([], [Options(_server, passwordFile: passwordFile)], logs);
            Assert.Empty(await registry.CheckAsync(Ct));
            var database = registry.FindDatabase("accounts")!;
            var before = await database.ExecuteAsync("who", SqlWire.Params(7), 0);
            Assert.Equal(SqlCallStatus.Ok, before.Status);
            Assert.Equal("gateway", SqlWire.Decode(before.Body).Rows[0][0]);

            await _server.ChangePasswordAsync(rotated);
            await File.WriteAllTextAsync(passwordFile, rotated, Ct);
            // Drop the pooled sessions so the next calls need new physical connections.
            await _server.SqlAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gateway'");
            Assert.True(await UntilOkAsync(database), "no successful call within 20 s of the rotation");

            // A wrong password is really refused: the file is what authenticates.
            await File.WriteAllTextAsync(passwordFile, "not-the-password", Ct);
            await _server.SqlAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'gateway'");
            var refused = await database.ExecuteAsync("who", SqlWire.Params(7), 0);
            Assert.NotEqual(SqlCallStatus.Ok, refused.Status);
            await File.WriteAllTextAsync(passwordFile, rotated, Ct);
            Assert.True(await UntilOkAsync(database), "no recovery after restoring the password file");
        }
        finally
        {
            await _server.ChangePasswordAsync(initial);
        }

        Assert.DoesNotContain(initial, logs.AllText);
        Assert.DoesNotContain(rotated, logs.AllText);
    }

    private static async Task<bool> UntilOkAsync(SqlDatabase database)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            if ((await database.ExecuteAsync("who", SqlWire.Params(1), 0)).Status == SqlCallStatus.Ok)
            {
                return true;
            }

            await Task.Delay(50, Ct);
        }

        return false;
    }
}
