namespace Gateway.Backends.Tests;

/// <summary>A secret file being rewritten must never read as an empty password.</summary>
public sealed class SecretFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("secret-file-").FullName;

    private string PathOf(string name) => Path.Combine(_directory, name);

    [Fact]
    public async Task ReadsTheValue_WithoutTheTrailingNewline()
    {
        File.WriteAllText(PathOf("p"), "s3cret\n");
        var file = new SecretFile(PathOf("p"));
        Assert.Equal("s3cret", file.Read());
        Assert.Equal("s3cret", await file.ReadAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FileCaughtEmptyOrMissing_KeepsTheLastValue()
    {
        File.WriteAllText(PathOf("p"), "old\n");
        var file = new SecretFile(PathOf("p"));
        Assert.Equal("old", file.Read());

        // A writer truncated the file and has not written yet.
        File.WriteAllText(PathOf("p"), "");
        Assert.Equal("old", file.Read());
        Assert.Equal("old", await file.ReadAsync(TestContext.Current.CancellationToken));

        // A Secret volume swap briefly removes it.
        File.Delete(PathOf("p"));
        Assert.Equal("old", file.Read());

        File.WriteAllText(PathOf("p"), "new");
        Assert.Equal("new", file.Read());
    }

    [Fact]
    public async Task NeverReadAndEmpty_FailsInsteadOfReturningNoPassword()
    {
        File.WriteAllText(PathOf("p"), "\n");
        var file = new SecretFile(PathOf("p"));
        Assert.Throws<IOException>(file.Read);
        await Assert.ThrowsAsync<IOException>(async () => await file.ReadAsync(TestContext.Current.CancellationToken));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
