using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Backends.Redis;

/// <summary>What the policy decided about one command.</summary>
internal enum RedisVerdict
{
    Allowed,
    /// <summary>Well-formed RESP but not a valid use of the command (e.g. a numkeys beyond the arguments).</summary>
    Malformed,
    Refused,
}

/// <summary>
/// One plugin's command policy for one target: data commands on keys pass; commands that would change, block or
/// desynchronize the shared connection never pass; scripts pass only when their SHA-1 is listed for the plugin or
/// the plugin runs under its own ACL user (then Redis itself enforces the user's key patterns inside the script);
/// anything else passes only when the operator listed it in <c>allowCommands</c>.
/// </summary>
internal sealed class RedisCommandPolicy
{
    private readonly FrozenSet<string> _scripts;
    private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _scriptsByText;
    private readonly FrozenSet<string> _allowed;
    private readonly bool _ownIdentity;

    public RedisCommandPolicy(IReadOnlyList<string> scripts, IReadOnlyList<string> allowCommands, bool ownIdentity)
    {
        _scripts = scripts.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _scriptsByText = _scripts.GetAlternateLookup<ReadOnlySpan<char>>();
        _allowed = allowCommands.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        _ownIdentity = ownIdentity;
    }

    /// <summary>
    /// Decides; on refusal <paramref name="subject"/> names what was refused (the command, or the command and the
    /// script's SHA-1) and <paramref name="remedy"/> says what an operator would configure to allow it.
    /// </summary>
    public RedisVerdict Check(RespCommand command, out RedisCommandSpec spec, out string subject, out string remedy)
    {
        subject = remedy = "";
        var name = command[0];
        spec = RedisCommandTable.Find(name);
        switch (spec.Kind)
        {
            case RedisCommandKind.Data:
                return CheckData(command, name, ref subject, ref remedy);
            case RedisCommandKind.Script:
                return CheckScript(command, name, out subject, out remedy);
            case RedisCommandKind.Never:
                subject = Upper(name);
                remedy = "never allowed: it would change, block or desynchronize the connection other calls share";
                return RedisVerdict.Refused;
            default:
                if (name.Length <= 32 && Ascii.IsValid(name) && _allowed.GetAlternateLookup<ReadOnlySpan<char>>().Contains(Upper(name)))
                {
                    return RedisVerdict.Allowed;
                }

                subject = Ascii.IsValid(name) && name.Length <= 32 ? Upper(name) : "(unknown command)";
                remedy = "not in the default command policy; list it in allowCommands for this plugin and target if the plugin needs it";
                return RedisVerdict.Refused;
        }
    }

    private static RedisVerdict CheckData(RespCommand command, ReadOnlySpan<byte> name, ref string subject, ref string remedy)
    {
        if (Ascii.EqualsIgnoreCase(name, "COPY"u8))
        {
            for (int i = 3; i < command.Count; i++)
            {
                if (Ascii.EqualsIgnoreCase(command[i], "DB"u8))
                {
                    subject = "COPY ... DB";
                    remedy = "never allowed: it writes into another database";
                    return RedisVerdict.Refused;
                }
            }
        }
        else if (Ascii.EqualsIgnoreCase(name, "SCRIPT"u8)
            && !(command.Count >= 2 && (Ascii.EqualsIgnoreCase(command[1], "LOAD"u8) || Ascii.EqualsIgnoreCase(command[1], "EXISTS"u8))))
        {
            subject = command.Count >= 2 && command[1].Length <= 16 && Ascii.IsValid(command[1]) ? "SCRIPT " + Upper(command[1]) : "SCRIPT";
            remedy = "only SCRIPT LOAD and SCRIPT EXISTS are allowed: the others reach every client's scripts";
            return RedisVerdict.Refused;
        }

        return RedisVerdict.Allowed;
    }

    private RedisVerdict CheckScript(RespCommand command, ReadOnlySpan<byte> name, out string subject, out string remedy)
    {
        subject = remedy = "";
        if (command.Count < 3 || !TryNumKeys(command[2], command.Count - 3))
        {
            return RedisVerdict.Malformed;
        }

        if (_ownIdentity)
        {
            return RedisVerdict.Allowed;
        }

        bool function = name.Length >= 5 && Ascii.EqualsIgnoreCase(name[..5], "FCALL"u8);
        if (function)
        {
            subject = Upper(name);
            remedy = "functions run only for a plugin with its own ACL user (user and passwordFile for this plugin and target)";
            return RedisVerdict.Refused;
        }

        // EVALSHA names the script's SHA-1; EVAL carries the script, whose SHA-1 is what Redis would cache it under.
        bool bySha = name.Length >= 7 && Ascii.EqualsIgnoreCase(name[..7], "EVALSHA"u8);
        Span<char> listed = stackalloc char[40];
        bool named = bySha
            ? command[1].Length == 40 && Ascii.ToUtf16(command[1], listed, out _) == System.Buffers.OperationStatus.Done
            : Convert.TryToHexStringLower(SHA1.HashData(command[1]), listed, out _);
        if (named && _scriptsByText.Contains(listed))
        {
            return RedisVerdict.Allowed;
        }

        subject = $"{Upper(name)} {(named ? listed.ToString().ToLowerInvariant() : "(not a SHA-1)")}";
        remedy = "scripts run only when their SHA-1 is listed in scripts for this plugin and target, or the plugin has its own ACL user";
        return RedisVerdict.Refused;
    }

    /// <summary>A plain decimal from 0 to <paramref name="max"/>.</summary>
    private static bool TryNumKeys(ReadOnlySpan<byte> text, int max)
    {
        if (text.IsEmpty || text.Length > 7)
        {
            return false;
        }

        int value = 0;
        foreach (byte digit in text)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = value * 10 + (digit - '0');
        }

        return value <= max;
    }

    private static string Upper(ReadOnlySpan<byte> ascii) => Encoding.ASCII.GetString(ascii).ToUpperInvariant();
}
