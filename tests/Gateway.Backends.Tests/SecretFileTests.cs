using Gateway.Testing;

namespace Gateway.Backends.Tests;

/// <summary>A secret file being rewritten must never read as an empty password.</summary>
public sealed class SecretFileTests : IDisposable
{
    private readonly TempFolder _folder = new("secret-file-");

    [Fact]
    public async Task ReadsTheValue_WithoutTheTrailingNewline()
    {
        File.WriteAllText(_folder.PathOf("p"), "s3cret\n");
        var file = new SecretFile(_folder.PathOf("p"));
        Assert.Equal("s3cret", file.Read());
        Assert.Equal("s3cret", await file.ReadAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task FileCaughtEmptyOrMissing_KeepsTheLastValue()
    {
        File.WriteAllText(_folder.PathOf("p"), "old\n");
        var file = new SecretFile(_folder.PathOf("p"));
        Assert.Equal("old", file.Read());

        // A writer truncated the file and has not written yet.
        File.WriteAllText(_folder.PathOf("p"), "");
        Assert.Equal("old", file.Read());
        Assert.Equal("old", await file.ReadAsync(TestContext.Current.CancellationToken));

        // A Secret volume swap briefly removes it.
        File.Delete(_folder.PathOf("p"));
        Assert.Equal("old", file.Read());

        File.WriteAllText(_folder.PathOf("p"), "new");
        Assert.Equal("new", file.Read());
    }

    [Fact]
    public async Task NeverReadAndEmpty_FailsInsteadOfReturningNoPassword()
    {
        File.WriteAllText(_folder.PathOf("p"), "\n");
        var file = new SecretFile(_folder.PathOf("p"));
        Assert.Throws<IOException>(file.Read);
        await Assert.ThrowsAsync<IOException>(async () => await file.ReadAsync(TestContext.Current.CancellationToken));
    }

    public void Dispose() => _folder.Dispose();
}
