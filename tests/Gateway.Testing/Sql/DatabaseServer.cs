namespace Gateway.Testing.Sql;

/// <summary>
/// A throw-away database server, PostgreSQL or MariaDB: its files in a temporary folder, listening on a free loopback
/// port, with a login <see cref="User"/> owning <see cref="Database"/> (password authentication over TCP) and
/// administration as the superuser over the server's private socket. What both servers offer, so a test can run the
/// same scenario on either.
/// </summary>
public abstract class DatabaseServer : IAsyncDisposable
{
    protected DatabaseServer(string root, int port, string password)
    {
        Root = root;
        Port = port;
        Password = password;
    }

    public int Port { get; }

    public string User => "gateway";

    /// <summary>Current password of <see cref="User"/>.</summary>
    public string Password { get; protected set; }

    public string Database => "gw";

    /// <summary>For the gateway's <c>databases.&lt;name&gt;.connectionString</c> (the password goes separately).</summary>
    public abstract string ConnectionString { get; }

    public string DataDirectory => Path.Combine(Root, "data");

    /// <summary>The temporary folder holding the data, the socket and the logs; deleted on disposal.</summary>
    protected string Root { get; }

    /// <summary>Starts the server (again, same port and data) and waits until it accepts connections.</summary>
    public abstract Task RestartAsync();

    /// <summary>Stops the server by its PID at once (an outage) and waits until it is gone.</summary>
    public abstract Task StopAsync();

    /// <summary>Runs SQL as the superuser over the private socket; returns the rows as text, without a header.</summary>
    public abstract Task<string> SqlAsync(string sql, string? database = null);

    public abstract Task ChangePasswordAsync(string password);

    /// <summary>Statements of <see cref="User"/> the server is still running whose text starts with <paramref name="prefix"/>.</summary>
    public abstract Task<int> RunningStatementsAsync(string prefix);

    /// <summary>The connections <see cref="User"/> has open now, busy or idle.</summary>
    public abstract Task<int> ConnectionsAsync();

    /// <summary>
    /// Makes a server with <paramref name="startOnce"/>, again on another port when it fails to start, up to three
    /// times: a free port can be taken by another test's server between <see cref="ServerProcess.FreePort"/> and the
    /// server's bind, and the server then exits at start. <paramref name="startOnce"/> disposes what it made before it
    /// throws.
    /// </summary>
    protected static async Task<TServer> StartOnFreePortAsync<TServer>(Func<Task<TServer>> startOnce)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await startOnce();
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            try
            {
                Directory.Delete(Root, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        GC.SuppressFinalize(this);
    }
}
