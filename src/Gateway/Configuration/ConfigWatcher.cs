namespace Gateway.Configuration;

/// <summary>
/// Calls back when the config file or a secret it references changes (hot reload). It
/// watches the folders, not the files: editors replace a file by renaming a new one over it, and
/// Kubernetes updates a mounted ConfigMap or Secret by writing a new <c>..2026_…</c> folder and
/// renaming a <c>..data</c> symlink over the old one, so the visible file (a symlink through
/// <c>..data</c>) never changes itself. Bursts of events are debounced into one call, made on a
/// thread-pool thread and never concurrently with itself. Call <see cref="Update"/> after every
/// reload attempt, failed or not, with the files the attempt referenced.
/// </summary>
public sealed class ConfigWatcher : IDisposable
{
    private static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(200);

    private readonly Action _onChange;
    private readonly TimeSpan _debounce;
    private readonly Timer _timer;
    /// <summary>Guards the set of watches. Never held while a FileSystemWatcher is disposed, which may wait for its event thread.</summary>
    private readonly Lock _gate = new();
    /// <summary>Guards the timer against re-arming after disposal; taken on event threads.</summary>
    private readonly Lock _timerGate = new();
    private readonly Lock _callbackGate = new();
    private Dictionary<string, DirectoryWatch> _watches = new(StringComparer.Ordinal);
    private bool _disposed;

    public ConfigWatcher(IReadOnlyList<string> files, Action onChange)
        : this(files, onChange, DefaultDebounce)
    {
    }

    /// <param name="onChange">Must not throw: it runs on a timer thread, where an exception ends the process.</param>
    public ConfigWatcher(IReadOnlyList<string> files, Action onChange, TimeSpan debounce)
    {
        _onChange = onChange;
        _debounce = debounce;
        _timer = new Timer(static state => ((ConfigWatcher)state!).Fire(), this, Timeout.Infinite, Timeout.Infinite);
        Update(files);
    }

    public void Update(IReadOnlyList<string> files)
    {
        var wanted = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var fullPath = Path.GetFullPath(file);
            AddWatchPoint(wanted, fullPath);

            // A plain symlink to a file elsewhere: its target changes in place, in the target's folder.
            // Kubernetes' ..data targets are skipped: their folders are replaced, and ..data covers that.
            if (LinkTarget(fullPath) is { } target && !target.Contains("/..", StringComparison.Ordinal))
            {
                AddWatchPoint(wanted, target);
            }
        }

        Dictionary<string, DirectoryWatch> stale;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            var next = new Dictionary<string, DirectoryWatch>(StringComparer.Ordinal);
            foreach (var (directory, names) in wanted)
            {
                if (_watches.Remove(directory, out var watch))
                {
                    watch.Names = names;
                }
                else
                {
                    watch = DirectoryWatch.TryStart(directory, names, this);
                }

                if (watch is not null)
                {
                    next[directory] = watch;
                }
            }

            stale = _watches;
            _watches = next;
        }

        foreach (var (_, watch) in stale)
        {
            watch.Dispose();
        }
    }

    public void Dispose()
    {
        Dictionary<string, DirectoryWatch> watches;
        lock (_gate)
        {
            lock (_timerGate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
            }

            watches = _watches;
            _watches = new Dictionary<string, DirectoryWatch>(StringComparer.Ordinal);
        }

        foreach (var (_, watch) in watches)
        {
            watch.Dispose();
        }

        lock (_timerGate)
        {
            _timer.Dispose();
        }
    }

    /// <summary>
    /// Watches the file's folder for the file's name; when the folder does not exist yet (a secret not
    /// mounted yet), the nearest existing ancestor for the first missing folder's name.
    /// </summary>
    private static void AddWatchPoint(Dictionary<string, HashSet<string>> wanted, string fullPath)
    {
        var name = Path.GetFileName(fullPath);
        var directory = Path.GetDirectoryName(fullPath);
        while (directory is not null && !Directory.Exists(directory))
        {
            name = Path.GetFileName(directory);
            directory = Path.GetDirectoryName(directory);
        }

        if (directory is null || name.Length == 0)
        {
            return;
        }

        if (!wanted.TryGetValue(directory, out var names))
        {
            names = new HashSet<string>(StringComparer.Ordinal);
            wanted[directory] = names;
        }

        names.Add(name);
    }

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void OnEvent()
    {
        lock (_timerGate)
        {
            if (!_disposed)
            {
                _timer.Change(_debounce, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Fire()
    {
        // A change that lands while the callback runs re-arms the timer and is delivered after it.
        lock (_callbackGate)
        {
            if (!Volatile.Read(ref _disposed))
            {
                _onChange();
            }
        }
    }

    /// <summary>One folder's watcher and the names in it that matter.</summary>
    private sealed class DirectoryWatch : IDisposable
    {
        private readonly FileSystemWatcher _watcher;
        private readonly ConfigWatcher _owner;

        private DirectoryWatch(FileSystemWatcher watcher, HashSet<string> names, ConfigWatcher owner)
        {
            _watcher = watcher;
            _owner = owner;
            Names = names;
        }

        public HashSet<string> Names { get; set; }

        public static DirectoryWatch? TryStart(string directory, HashSet<string> names, ConfigWatcher owner)
        {
            FileSystemWatcher watcher;
            try
            {
                watcher = new FileSystemWatcher(directory)
                {
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite
                        | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.Attributes,
                    IncludeSubdirectories = false,
                };
            }
            catch (ArgumentException)
            {
                // The folder vanished between the check and now; the next Update finds its ancestor.
                return null;
            }

            var watch = new DirectoryWatch(watcher, names, owner);
            watcher.Changed += watch.OnChanged;
            watcher.Created += watch.OnChanged;
            watcher.Deleted += watch.OnChanged;
            watcher.Renamed += watch.OnRenamed;
            // Lost events (queue overflow) or a folder gone: assume the worst and reload.
            watcher.Error += watch.OnError;
            watcher.EnableRaisingEvents = true;
            return watch;
        }

        public void Dispose() => _watcher.Dispose();

        private void OnChanged(object sender, FileSystemEventArgs e)
        {
            if (Matters(e.Name))
            {
                _owner.OnEvent();
            }
        }

        private void OnRenamed(object sender, RenamedEventArgs e)
        {
            if (Matters(e.Name) || Matters(e.OldName))
            {
                _owner.OnEvent();
            }
        }

        private void OnError(object sender, ErrorEventArgs e) => _owner.OnEvent();

        /// <summary>A watched name, or Kubernetes' atomic-writer entries (<c>..data</c>, <c>..2026_…</c>).</summary>
        private bool Matters(string? name) =>
            name is not null && (Names.Contains(name) || name.StartsWith("..", StringComparison.Ordinal));
    }
}
