using System.Diagnostics;
using System.Text;
using Gateway.Backends.Sql;
using Gateway.Testing.Sql;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

[Collection(PostgresCollection.Name)]
public sealed class SqlDatabaseTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly PostgresServer _server = postgres.Server;

    private const string EchoAll =
        "SELECT $1::bool AS b, $2::int2 AS i2, $3::int4 AS i4, $4::int8 AS i8, $5::float4 AS f4, $6::float8 AS f8, " +
        "$7::numeric AS num, $8::text AS t, $9::varchar AS vc, $10::uuid AS id, $11::date AS d, $12::timestamptz AS ts, " +
        "$13::bytea AS bin, $14::json AS j, $15::int[] AS arr";

    private BackendRegistry _registry = null!;
    private SqlDatabase _database = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await _server.SqlAsync(
            "CREATE TABLE IF NOT EXISTS api_keys (key_hash text PRIMARY KEY, tenant text NOT NULL, revoked bool NOT NULL DEFAULT false); " +
            "GRANT ALL ON api_keys TO gateway; " +
            "INSERT INTO api_keys VALUES ('k1', 'acme', false) ON CONFLICT DO NOTHING; " +
            "CREATE TABLE IF NOT EXISTS events (id serial PRIMARY KEY, note text); GRANT ALL ON events TO gateway; GRANT ALL ON SEQUENCE events_id_seq TO gateway;");
        _registry = BackendRegistry.Create([], [Options("main", _server.Password)], NullLoggerFactory.Instance);
        Assert.Empty(await _registry.CheckAsync(Ct));
        _database = _registry.FindDatabase("main")!;
    }

    public ValueTask DisposeAsync() => _registry.DisposeAsync();

    private DatabaseOptions Options(string name, string password, int timeoutMs = 2000) => new()
    {
        Name = name,
        ConnectionString = _server.ConnectionString,
        Password = password,
        TimeoutMs = timeoutMs,
        Statements = new Dictionary<string, StatementOptions>
        {
            ["echo_all"] = new() { Sql = EchoAll },
            ["find_key"] = new() { Sql = "SELECT tenant FROM api_keys WHERE key_hash = $1 AND NOT revoked" },
            ["series"] = new() { Sql = "SELECT g AS n FROM generate_series(1, $1::int) g", MaxRows = 5 },
            ["big"] = new() { Sql = "SELECT repeat('x', $1::int) AS filler", MaxResultBytes = 1000 },
            ["sleep"] = new() { Sql = "SELECT pg_sleep($1::float8) AS slept" },
            ["insert_event"] = new() { Sql = "INSERT INTO events (note) VALUES ($1)" },
            ["no_params"] = new() { Sql = "SELECT 1 AS one" },
            ["timestamp_plain"] = new() { Sql = "SELECT '2024-02-29 23:59:58.25'::timestamp AS ts, '12:34:56'::time AS tm, '1 day 2 hours'::interval AS iv, '{\"a\",\"b c\",NULL}'::text[] AS names" },
        },
    };

    [Fact]
    public async Task EveryParameterType_RoundTripsThroughEveryResultType()
    {
        var parameters = SqlWire.Params(
            true, 32767, 2147483647, long.MinValue, 1.5, 3.141592653589793,
            "12345678901234567890.000000001", "O'Reilly ünïcödé", "varchar value", "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "2024-02-29", "2024-05-01T12:34:56.789+02:00", new byte[] { 0, 1, 2, 255 }, "{\"k\": [1, 2]}", "{1,2,3}");
        Assert.Equal(SqlDispatchStatus.Ok, _database.Validate("echo_all", parameters));
        var result = await _database.ExecuteAsync("echo_all", parameters, 0);
        Assert.True(result.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(result.Body));
        Assert.Equal(1, result.RowCount);

        var set = SqlWire.Decode(result.Body);
        Assert.Equal(0ul, set.RowsAffected);
        Assert.False(set.Truncated);
        Assert.Equal(["b", "i2", "i4", "i8", "f4", "f8", "num", "t", "vc", "id", "d", "ts", "bin", "j", "arr"], set.Columns.Select(c => c.Name));
        Assert.Equal(new byte[] { 1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 5, 4, 4 }, set.Columns.Select(c => c.Tag));
        var row = set.Rows[0];
        Assert.Equal(true, row[0]);
        Assert.Equal(32767L, row[1]);
        Assert.Equal(2147483647L, row[2]);
        Assert.Equal(long.MinValue, row[3]);
        Assert.Equal(1.5, row[4]);
        Assert.Equal(3.141592653589793, row[5]);
        Assert.Equal("12345678901234567890.000000001", row[6]);
        Assert.Equal("O'Reilly ünïcödé", row[7]);
        Assert.Equal("varchar value", row[8]);
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", row[9]);
        Assert.Equal("2024-02-29", row[10]);
        Assert.Equal("2024-05-01T10:34:56.789Z", row[11]);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, row[12]);
        Assert.Equal("{\"k\": [1, 2]}", row[13]);
        Assert.Equal("[1,2,3]", row[14]);
    }

    [Fact]
    public async Task Nulls_AreAcceptedForEveryParameterAndReturnedAsNullCells()
    {
        var parameters = SqlWire.Params(new object?[15]);
        Assert.Equal(SqlDispatchStatus.Ok, _database.Validate("echo_all", parameters));
        var result = await _database.ExecuteAsync("echo_all", parameters, 0);
        Assert.Equal(SqlCallStatus.Ok, result.Status);
        var set = SqlWire.Decode(result.Body);
        Assert.All(set.Rows[0], Assert.Null);
        Assert.Equal(new byte[] { 1, 2, 2, 2, 3, 3, 4, 4, 4, 4, 4, 4, 5, 4, 4 }, set.Columns.Select(c => c.Tag));
    }

    [Fact]
    public async Task TimeIntervalAndTextArrayColumns_UseIso8601AndJson()
    {
        var result = await _database.ExecuteAsync("timestamp_plain", default, 0);
        Assert.Equal(SqlCallStatus.Ok, result.Status);
        var row = SqlWire.Decode(result.Body).Rows[0];
        Assert.Equal("2024-02-29T23:59:58.25", row[0]);
        Assert.Equal("12:34:56", row[1]);
        Assert.Equal("P1DT2H", row[2]);
        Assert.Equal("[\"a\",\"b c\",null]", row[3]);
    }

    [Fact]
    public async Task FloatSpecialValuesAndIntegerLimits_AreExact()
    {
        var parameters = SqlWire.Params(false, -32768, int.MinValue, long.MaxValue, double.PositiveInfinity, double.NaN,
            "-0.5", "", "", "00000000-0000-0000-0000-000000000000", "0001-01-01", "1970-01-01T00:00:00Z", Array.Empty<byte>(), "null", "{}");
        var result = await _database.ExecuteAsync("echo_all", parameters, 0);
        Assert.True(result.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(result.Body));
        var row = SqlWire.Decode(result.Body).Rows[0];
        Assert.Equal(false, row[0]);
        Assert.Equal(-32768L, row[1]);
        Assert.Equal((long)int.MinValue, row[2]);
        Assert.Equal(long.MaxValue, row[3]);
        Assert.Equal(double.PositiveInfinity, row[4]);
        Assert.True(double.IsNaN((double)row[5]!));
        Assert.Equal("-0.5", row[6]);
        Assert.Equal("", row[7]);
        Assert.Equal("1970-01-01T00:00:00Z", row[11]);
        Assert.Equal(Array.Empty<byte>(), row[12]);
        Assert.Equal("[]", row[14]);
    }

    public static TheoryData<string, byte[]> BadParameters => new()
    {
        { "too few", SqlWire.Params(true) },
        { "too many", SqlWire.Params("k", "extra") },
        { "text for int2", SqlWire.Params(true, "1", 1, 1L, 1.0, 1.0, "1", "t", "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", new byte[] { 1 }, "1", "{}") },
        { "int64 beyond int2", SqlWire.Params(true, 40000, 1, 1L, 1.0, 1.0, "1", "t", "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", new byte[] { 1 }, "1", "{}") },
        { "int64 for bool", SqlWire.Params(1, 1, 1, 1L, 1.0, 1.0, "1", "t", "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", new byte[] { 1 }, "1", "{}") },
        { "float for int8", SqlWire.Params(true, 1, 1, 1.0, 1.0, 1.0, "1", "t", "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", new byte[] { 1 }, "1", "{}") },
        { "bytes for text", SqlWire.Params(true, 1, 1, 1L, 1.0, 1.0, "1", new byte[] { 1 }, "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", new byte[] { 1 }, "1", "{}") },
        { "text for bytea", SqlWire.Params(true, 1, 1, 1L, 1.0, 1.0, "1", "t", "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", "x", "1", "{}") },
        { "trailing bytes", [.. SqlWire.Params("k"), 0] },
        { "truncated text", SqlWire.Params("k")[..^1] },
        { "count only", [1, 0, 0, 0] },
        { "short count", [1, 0] },
        { "unknown tag", [1, 0, 0, 0, 0x09] },
        { "bool value 2", [1, 0, 0, 0, 0x01, 0x02] },
        { "text length past end", [1, 0, 0, 0, 0x04, 0xFF, 0xFF, 0xFF, 0xFF, 0x41] },
        { "invalid utf-8", [1, 0, 0, 0, 0x04, 2, 0, 0, 0, 0xC3, 0x28] },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task BadParameters_AreRefusedBeforeDispatchAndAtExecution(string why, byte[] parameters)
    {
        var statement = parameters.Length > 40 ? "echo_all" : "find_key";
        Assert.True(SqlDispatchStatus.BadArgument == _database.Validate(statement, parameters), why);
        var result = await _database.ExecuteAsync(statement, parameters, 0);
        Assert.True(SqlCallStatus.BadArgument == result.Status, why);
        Assert.Equal(0, result.RowCount);
    }

    [Fact]
    public async Task UnknownStatement_IsNotFound()
    {
        Assert.Equal(SqlDispatchStatus.NotFound, _database.Validate("drop_everything", SqlWire.Params()));
        var result = await _database.ExecuteAsync("drop_everything", default, 0);
        Assert.Equal(SqlCallStatus.StatementNotFound, result.Status);
        Assert.Null(_registry.FindDatabase("other"));
    }

    [Fact]
    public async Task NoParameters_MayBeEncodedEmptyOrAsZeroCount()
    {
        Assert.Equal(SqlDispatchStatus.Ok, _database.Validate("no_params", default));
        Assert.Equal(SqlDispatchStatus.Ok, _database.Validate("no_params", SqlWire.Params()));
        var result = await _database.ExecuteAsync("no_params", SqlWire.Params(), 0);
        Assert.Equal(1L, SqlWire.Decode(result.Body).Rows[0][0]);
    }

    [Theory]
    [InlineData("k1' OR '1'='1")]
    [InlineData("'; DROP TABLE api_keys; --")]
    [InlineData("k1\\'; SELECT pg_sleep(10); --")]
    [InlineData("$1")]
    public async Task SqlMetacharactersInParameters_AreJustData(string key)
    {
        var result = await _database.ExecuteAsync("find_key", SqlWire.Params(key), 0);
        Assert.Equal(SqlCallStatus.Ok, result.Status);
        Assert.Equal(0, result.RowCount);
        var still = await _database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0);
        Assert.Equal("acme", SqlWire.Decode(still.Body).Rows.Single()[0]);
    }

    [Fact]
    public async Task MoreRowsThanMaxRows_AreTruncatedAndFlagged()
    {
        var truncated = await _database.ExecuteAsync("series", SqlWire.Params(12), 0);
        Assert.Equal(SqlCallStatus.Ok, truncated.Status);
        Assert.Equal(5, truncated.RowCount);
        var set = SqlWire.Decode(truncated.Body);
        Assert.True(set.Truncated);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], set.Rows.Select(r => (long)r[0]!));

        var exact = SqlWire.Decode((await _database.ExecuteAsync("series", SqlWire.Params(5), 0)).Body);
        Assert.False(exact.Truncated);
        Assert.Equal(5, exact.Rows.Length);
    }

    [Fact]
    public async Task ResultOverMaxResultBytes_IsResultTooLarge()
    {
        var large = await _database.ExecuteAsync("big", SqlWire.Params(2000), 0);
        Assert.Equal(SqlCallStatus.ResultTooLarge, large.Status);
        Assert.Equal(0, large.RowCount);
        var small = await _database.ExecuteAsync("big", SqlWire.Params(100), 0);
        Assert.Equal(SqlCallStatus.Ok, small.Status);
        Assert.Equal(new string('x', 100), SqlWire.Decode(small.Body).Rows[0][0]);
    }

    [Fact]
    public async Task SlowStatement_TimesOutNearTheRequestedTimeout_AndThePoolStaysUsable()
    {
        await _database.ExecuteAsync("no_params", default, 0);
        var watch = Stopwatch.StartNew();
        var result = await _database.ExecuteAsync("sleep", SqlWire.Params(10.0), 150);
        watch.Stop();
        Assert.Equal(SqlCallStatus.Timeout, result.Status);
        // At the 150 ms deadline, not when the 10 s statement would end; the bound leaves room for a CI machine whose
        // timers fire late (one call took 1.9 s under the whole suite).
        Assert.InRange(watch.ElapsedMilliseconds, 145, 5000);
        Assert.Equal(SqlCallStatus.Ok, (await _database.ExecuteAsync("sleep", SqlWire.Params(0.0), 0)).Status);
    }

    [Fact]
    public async Task WaitingForAPooledConnection_CountsAgainstTheTimeout()
    {
        await using var registry = BackendRegistry.Create([], [Options("tiny", _server.Password, timeoutMs: 5000) with { MaxPoolSize = 1 }], NullLoggerFactory.Instance);
        Assert.Empty(await registry.CheckAsync(Ct));
        var database = registry.FindDatabase("tiny")!;
        var holder = database.ExecuteAsync("sleep", SqlWire.Params(4.0), 0);
        await Task.Delay(100, Ct);

        var watch = Stopwatch.StartNew();
        var waiting = await database.ExecuteAsync("no_params", default, 150);
        watch.Stop();
        Assert.Equal(SqlCallStatus.Timeout, waiting.Status);
        // At the 150 ms deadline, not when the holder frees the only connection about 3.9 s later (room for late timers).
        Assert.InRange(watch.ElapsedMilliseconds, 145, 3000);
        Assert.Equal(SqlCallStatus.Ok, (await holder).Status);
        Assert.Equal(SqlCallStatus.Ok, (await database.ExecuteAsync("no_params", default, 0)).Status);
    }

    [Fact]
    public async Task ValueTheDatabaseRejects_IsBadArgumentWithSqlState()
    {
        var parameters = SqlWire.Params(true, 1, 1, 1L, 1.0, 1.0, "not a number", "t", "v", "00000000-0000-0000-0000-000000000000", "2024-01-01", "2024-01-01T00:00:00Z", new byte[] { 1 }, "1", "{}");
        var result = await _database.ExecuteAsync("echo_all", parameters, 0);
        Assert.Equal(SqlCallStatus.BadArgument, result.Status);
        Assert.StartsWith("SQLSTATE 22", Encoding.UTF8.GetString(result.Body));
    }

    [Fact]
    public async Task Insert_ReportsRowsAffected()
    {
        var result = await _database.ExecuteAsync("insert_event", SqlWire.Params("hello"), 0);
        Assert.Equal(SqlCallStatus.Ok, result.Status);
        var set = SqlWire.Decode(result.Body);
        Assert.Equal(1ul, set.RowsAffected);
        Assert.Empty(set.Columns);
    }

    [Fact]
    public async Task ThousandConcurrentCalls_AllComplete()
    {
        await using var registry = BackendRegistry.Create([], [Options("busy", _server.Password, timeoutMs: 30_000) with { MaxPoolSize = 16 }], NullLoggerFactory.Instance);
        var database = registry.FindDatabase("busy")!;
        var calls = new Task<SqlResult>[1000];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = database.ExecuteAsync("series", SqlWire.Params(i % 5 + 1), 0);
        }

        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        for (var i = 0; i < results.Length; i++)
        {
            Assert.Equal(SqlCallStatus.Ok, results[i].Status);
            Assert.Equal(i % 5 + 1, results[i].RowCount);
        }
    }

    [Fact]
    public async Task CheckAsync_ListsEveryBrokenStatementWithItsKeyPath()
    {
        var options = Options("broken", _server.Password) with
        {
            Statements = new Dictionary<string, StatementOptions>
            {
                ["good"] = new() { Sql = "SELECT 1" },
                ["missing_table"] = new() { Sql = "SELECT * FROM no_such_table WHERE id = $1" },
                ["syntax"] = new() { Sql = "SELEC 1" },
            },
        };
        await using var registry = BackendRegistry.Create([], [options, Options("odd", "x") with { ConnectionString = "Host=127.0.0.1;NoSuchKeyword=1" }], NullLoggerFactory.Instance);
        var problems = await registry.CheckAsync(Ct);
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("databases.broken.statements.missing_table: 42P01", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("databases.broken.statements.syntax: 42601", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("databases.odd.connectionString:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnreachableDatabaseAtStart_IsAWarningNotAProblem()
    {
        var logs = new CapturingLoggerFactory();
        var options = Options("away", "x") with { ConnectionString = $"Host=127.0.0.1;Port={FreePort.Next()};Database=gw;Username=gateway" };
        await using var registry = BackendRegistry.Create([], [options], logs);
        Assert.Empty(await registry.CheckAsync(Ct));
        Assert.Contains("away", logs.AllText);
        // Not described yet: only the encoding can be checked before dispatch; execution reports the failure.
        Assert.Equal(SqlDispatchStatus.Ok, registry.FindDatabase("away")!.Validate("find_key", SqlWire.Params("k")));
        Assert.Equal(SqlCallStatus.BackendError, (await registry.FindDatabase("away")!.ExecuteAsync("find_key", SqlWire.Params("k"), 0)).Status);
    }

    [Fact]
    public async Task Metrics_CountCallsByStatus()
    {
        await _database.ExecuteAsync("no_params", default, 0);
        await _database.ExecuteAsync("nope", default, 0);
        var text = new StringBuilder();
        _registry.WritePrometheus(text);
        Assert.Contains("gateway_sql_calls_total{target=\"main\",status=\"ok\"} 1\n", text.ToString());
        Assert.Contains("gateway_sql_calls_total{target=\"main\",status=\"statement_not_found\"} 1\n", text.ToString());
        Assert.Contains("gateway_sql_circuit_state{target=\"main\"} 0\n", text.ToString());
    }
}
