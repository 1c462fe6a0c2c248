using System.Text;
using Microsoft.Extensions.Logging;

namespace Gateway.Plugins.Logging;

/// <summary>
/// A VM's stdout and stderr. Toolchains write a line in many small <c>fd_write</c> calls (Go prints a panic one
/// value at a time), so text is buffered and logged one record per line, and whatever is left is flushed at the
/// end of each guest call and when the VM dies. A Go panic or fatal error on stderr is kept together with its
/// stack as one record. Owned by the VM's worker thread; never locked.
/// </summary>
internal sealed class GuestOutput
{
    private readonly Stream _stdout = new(LogLevel.Information);
    private readonly Stream _stderr = new(LogLevel.Error);

    /// <summary>Appends what the guest wrote to fd 1 or 2, on behalf of <paramref name="plugin"/>.</summary>
    public void Write(GuestLog plugin, int fd, ReadOnlySpan<byte> bytes) => (fd == 1 ? _stdout : _stderr).Write(plugin, bytes);

    /// <summary>Logs any partial line; called when a guest call ends and when the VM dies.</summary>
    public void Flush()
    {
        _stdout.Flush();
        _stderr.Flush();
    }

    private sealed class Stream(LogLevel level)
    {
        private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
        private readonly StringBuilder _text = new();
        private char[] _chars = new char[256];
        private GuestLog? _plugin;
        private bool _panic;

        public void Write(GuestLog plugin, ReadOnlySpan<byte> bytes)
        {
            if (_plugin != plugin)
            {
                Flush();
                _plugin = plugin;
            }
            if (!plugin.IsEnabled(level))
            {
                return;
            }
            int needed = _decoder.GetCharCount(bytes, flush: false);
            if (needed > _chars.Length)
            {
                _chars = new char[Math.Max(needed, _chars.Length * 2)];
            }
            int count = _decoder.GetChars(bytes, _chars, flush: false);
            int start = 0;
            for (int i = 0; i < count; i++)
            {
                if (_chars[i] != '\n')
                {
                    continue;
                }
                _text.Append(_chars, start, i - start);
                start = i + 1;
                EndLine();
            }
            _text.Append(_chars, start, count - start);
            if (_text.Length > GuestLog.MaxMessageChars)
            {
                Emit();
            }
        }

        public void Flush()
        {
            if (_text.Length > 0)
            {
                Emit();
            }
            _panic = false;
        }

        private void EndLine()
        {
            if (!_panic && level == LogLevel.Error && StartsPanic())
            {
                _panic = true;
            }
            if (_panic)
            {
                // The stack that follows a panic stays in the same record until the call ends or the VM dies.
                _text.Append('\n');
                return;
            }
            Emit();
        }

        private bool StartsPanic() => Begins("panic: ") || Begins("fatal error: ");

        private bool Begins(string prefix)
        {
            if (_text.Length < prefix.Length)
            {
                return false;
            }
            for (int i = 0; i < prefix.Length; i++)
            {
                if (_text[i] != prefix[i])
                {
                    return false;
                }
            }
            return true;
        }

        private void Emit()
        {
            int length = _text.Length;
            while (length > 0 && _text[length - 1] is '\n' or '\r')
            {
                length--;
            }
            if (length > 0)
            {
                _plugin?.Write(level, _text.ToString(0, length));
            }
            _text.Clear();
        }
    }
}
