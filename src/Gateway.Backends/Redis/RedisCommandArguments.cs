using System.Text;
using StackExchange.Redis;

namespace Gateway.Backends.Redis;

/// <summary>
/// A plugin's command as the client takes it: the name, then every argument, key arguments as keys so a Cluster
/// routes the command to the node that owns their slot (for scripts, the <c>numkeys</c> arguments after the script).
/// </summary>
internal static class RedisCommandArguments
{
    public static (string Name, object[] Arguments) Build(AdmittedRedisCommand admitted)
    {
        var command = admitted.Command;
        var spec = admitted.Spec;
        int count = command.Count - 1;
        int firstKey = 0, lastKey = -1, step = 1;
        if (spec.Kind == RedisCommandKind.Script)
        {
            // numkeys was checked by the policy: plain decimal, within the arguments.
            int keys = int.Parse(command[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);
            firstKey = 3;
            lastKey = 2 + keys;
        }
        else if (spec.FirstKey > 0)
        {
            firstKey = spec.FirstKey;
            lastKey = spec.LastKey < 0 ? command.Count + spec.LastKey : spec.LastKey;
            step = spec.Step;
        }

        // Values refer to the command's own bytes, which nothing changes; keys are copied, as the client takes no slice.
        var arguments = new object[count];
        for (int i = 1; i <= count; i++)
        {
            bool isKey = firstKey > 0 && i >= firstKey && i <= lastKey && (i - firstKey) % step == 0;
            arguments[i - 1] = isKey ? (RedisKey)command[i].ToArray() : (RedisValue)command.Memory(i);
        }

        return (spec.Name ?? Encoding.ASCII.GetString(command[0]).ToUpperInvariant(), arguments);
    }
}
