using System.Text;
using Gateway.Backends.Sql;
using Gateway.Testing.Sql;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Backends.Tests;

/// <summary>The <c>mysql</c> provider against a real MariaDB: parameters and every column type (limits and timeouts: <see cref="MariaDbLimitsTests"/>).</summary>
[Collection(MariaDbCollection.Name)]
public sealed class MySqlDatabaseTests(MariaDbFixture mariadb) : IAsyncLifetime
{
    private const string Columns =
        "b, ti, si, mi, i, bi, ubi, f, d, dec, ch, vc, tx, en, st, js, dt, tm, dtm, ts, yr, bin, vb, bl, bt, id";

    private readonly MariaDbServer _server = mariadb.Server;
    private BackendRegistry _registry = null!;
    private SqlDatabase _database = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        await _server.SqlAsync(
            "CREATE TABLE IF NOT EXISTS api_keys (key_hash VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, revoked BOOL NOT NULL DEFAULT FALSE); " +
            "INSERT IGNORE INTO api_keys VALUES ('k1', 'acme', FALSE); " +
            "CREATE TABLE IF NOT EXISTS everything (id_row INT AUTO_INCREMENT PRIMARY KEY, b TINYINT(1), ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, " +
            "bi BIGINT, ubi BIGINT UNSIGNED, f FLOAT, d DOUBLE, `dec` DECIMAL(30,9), ch CHAR(5), vc VARCHAR(40), tx TEXT, en ENUM('small','large'), " +
            "st SET('a','b','c'), js JSON, dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR, bin BINARY(4), vb VARBINARY(8), bl BLOB, bt BIT(8), id UUID)");
        _registry = BackendRegistry.Create([], [Options("main")], NullLoggerFactory.Instance);
        Assert.Empty(await _registry.CheckAsync(Ct));
        _database = _registry.FindDatabase("main")!;
    }

    public ValueTask DisposeAsync() => _registry.DisposeAsync();

    private DatabaseOptions Options(string name) => new()
    {
        Name = name,
        Provider = DatabaseProvider.MySql,
        ConnectionString = _server.ConnectionString,
        Password = _server.Password,
        TimeoutMs = 2000,
        MaxPoolSize = 8,
        Statements = new Dictionary<string, StatementOptions>
        {
            ["insert_all"] = new() { Sql = $"INSERT INTO everything ({Columns.Replace("dec", "`dec`")}) VALUES ({string.Join(", ", Enumerable.Repeat("?", 26))})" },
            ["select_row"] = new() { Sql = $"SELECT {Columns.Replace("dec", "`dec`")} FROM everything WHERE id_row = ?" },
            ["last_id"] = new() { Sql = "SELECT MAX(id_row) AS id FROM everything" },
            ["find_key"] = new() { Sql = "SELECT tenant FROM api_keys WHERE key_hash = ? AND NOT revoked" },
            ["literal_marks"] = new() { Sql = "SELECT '?' AS q, `seq` AS n /* ? */ FROM seq_1_to_3 WHERE seq = ? -- ?\n" },
        },
    };

    [Fact]
    public async Task EveryColumnType_RoundTripsWithTheDocumentedMapping()
    {
        var uuid = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        var insert = SqlWire.Params(
            true, -128, -32768, -8388608, int.MinValue, long.MinValue, "18446744073709551615", 1.25, 3.141592653589793,
            "12345678901234567890.000000001", "abc", "O'Reilly ünïcödé", "long text", "large", "a,c", "{\"k\": [1, 2]}",
            "2024-02-29", "-838:59:59.5", "2024-02-29 23:59:58.25", "2024-05-01 12:34:56.789", 2024, new byte[] { 0, 1, 2, 255 },
            new byte[] { 9, 8 }, new byte[] { 1, 2, 3 }, 0b1010_0101, uuid.ToUpperInvariant());
        Assert.Equal(SqlDispatchStatus.Ok, _database.Validate("insert_all", insert));
        var inserted = await _database.ExecuteAsync("insert_all", insert, 0);
        Assert.True(inserted.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(inserted.Body));
        Assert.Equal(1ul, SqlWire.Decode(inserted.Body).RowsAffected);

        var set = await SelectLastAsync();
        Assert.Equal(Columns.Split(", "), set.Columns.Select(c => c.Name));
        // BOOL, INT64 ×5, mixed (unsigned 64-bit), FLOAT64 ×2, TEXT ×12, INT64 (year), BYTES ×3, mixed (bit), TEXT (uuid).
        Assert.Equal(new byte[] { 1, 2, 2, 2, 2, 2, 0, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 5, 5, 5, 0, 4 }, set.Columns.Select(c => c.Tag));
        var row = set.Rows.Single();
        Assert.Equal(true, row[0]);
        Assert.Equal(-128L, row[1]);
        Assert.Equal(-32768L, row[2]);
        Assert.Equal(-8388608L, row[3]);
        Assert.Equal((long)int.MinValue, row[4]);
        Assert.Equal(long.MinValue, row[5]);
        Assert.Equal("18446744073709551615", row[6]);
        Assert.Equal(1.25, row[7]);
        Assert.Equal(3.141592653589793, row[8]);
        Assert.Equal("12345678901234567890.000000001", row[9]);
        Assert.Equal("abc", row[10]);
        Assert.Equal("O'Reilly ünïcödé", row[11]);
        Assert.Equal("long text", row[12]);
        Assert.Equal("large", row[13]);
        Assert.Equal("a,c", row[14]);
        Assert.Equal("{\"k\": [1, 2]}", row[15]);
        Assert.Equal("2024-02-29", row[16]);
        Assert.Equal("-838:59:59.5", row[17]);
        Assert.Equal("2024-02-29T23:59:58.25", row[18]);
        Assert.Equal("2024-05-01T12:34:56.789Z", row[19]);
        Assert.Equal(2024L, row[20]);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, row[21]);
        Assert.Equal(new byte[] { 9, 8 }, row[22]);
        Assert.Equal(new byte[] { 1, 2, 3 }, row[23]);
        Assert.Equal(0b1010_0101L, row[24]);
        Assert.Equal(uuid, row[25]);
    }

    [Fact]
    public async Task SmallUnsignedAndBooleanEdgeValues_KeepTheirTags()
    {
        var insert = SqlWire.Params(false, 127, 32767, 8388607, int.MaxValue, long.MaxValue, long.MaxValue, -0.5, double.MaxValue,
            "-0.000000001", "", "", "", "small", "", "null", "0001-01-01", "00:00:00", "9999-12-31 23:59:59.999999", "1970-01-01 00:00:01",
            1901, new byte[4], Array.Empty<byte>(), Array.Empty<byte>(), 0, "00000000-0000-0000-0000-000000000000");
        Assert.Equal(SqlCallStatus.Ok, (await _database.ExecuteAsync("insert_all", insert, 0)).Status);
        var row = (await SelectLastAsync()).Rows.Single();
        Assert.Equal(false, row[0]);
        Assert.Equal(long.MaxValue, row[6]); // fits INT64, so an INT64 cell in the mixed column
        Assert.Equal(-0.5, row[7]);
        Assert.Equal(double.MaxValue, row[8]);
        Assert.Equal("-0.000000001", row[9]);
        Assert.Equal("", row[10]);
        Assert.Equal("0001-01-01", row[16]);
        Assert.Equal("00:00:00", row[17]);
        Assert.Equal("9999-12-31T23:59:59.999999", row[18]);
        Assert.Equal("1970-01-01T00:00:01Z", row[19]);
        Assert.Equal(new byte[4], row[21]);
        Assert.Equal(Array.Empty<byte>(), row[22]);
        Assert.Equal(0L, row[24]);
    }

    [Fact]
    public async Task Nulls_AreAcceptedForEveryParameterAndReturnedAsNullCells()
    {
        var inserted = await _database.ExecuteAsync("insert_all", SqlWire.Params(new object?[26]), 0);
        Assert.True(inserted.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(inserted.Body));
        var set = await SelectLastAsync();
        Assert.All(set.Rows.Single(), Assert.Null);
        Assert.Equal(26, set.Columns.Length);
    }

    [Fact]
    public async Task PlaceholdersInsideLiteralsAndComments_AreNotParameters()
    {
        Assert.Equal(SqlDispatchStatus.BadArgument, _database.Validate("literal_marks", SqlWire.Params(2, 3)));
        var result = await _database.ExecuteAsync("literal_marks", SqlWire.Params(2), 0);
        Assert.True(result.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(result.Body));
        Assert.Equal(["?", 2L], SqlWire.Decode(result.Body).Rows.Single());
    }

    [Theory]
    [InlineData("k1' OR '1'='1")]
    [InlineData("k1\\' OR 1=1 -- ")]
    public async Task ApiKeyLookup_FindsKnownKeysAndTreatsMetacharactersAsData(string hostile)
    {
        var known = await _database.ExecuteAsync("find_key", SqlWire.Params("k1"), 0);
        Assert.Equal(["acme"], SqlWire.Decode(known.Body).Rows.Single());
        var miss = await _database.ExecuteAsync("find_key", SqlWire.Params(hostile), 0);
        Assert.Equal(SqlCallStatus.Ok, miss.Status);
        Assert.Empty(SqlWire.Decode(miss.Body).Rows);
    }

    [Fact]
    public async Task CheckAsync_ReportsStatementsTheServerRefuses()
    {
        var options = Options("broken") with
        {
            Statements = new Dictionary<string, StatementOptions>
            {
                ["good"] = new() { Sql = "SELECT 1" },
                ["missing_table"] = new() { Sql = "SELECT * FROM no_such_table WHERE id = ?" },
                ["syntax"] = new() { Sql = "SELEC 1" },
            },
        };
        await using var registry = BackendRegistry.Create([], [options], NullLoggerFactory.Instance);
        var problems = await registry.CheckAsync(Ct);
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("databases.broken.statements.missing_table: 42S02", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("databases.broken.statements.syntax: 42000", StringComparison.Ordinal));
    }

    private async Task<SqlWire.ResultSet> SelectLastAsync()
    {
        var last = SqlWire.Decode((await _database.ExecuteAsync("last_id", default, 0)).Body).Rows.Single()[0];
        var result = await _database.ExecuteAsync("select_row", SqlWire.Params((long)last!), 0);
        Assert.True(result.Status == SqlCallStatus.Ok, Encoding.UTF8.GetString(result.Body));
        return SqlWire.Decode(result.Body);
    }
}
