using System.Reflection;

namespace Gateway.Perf.Micro;

/// <summary>
/// Binds a delegate to an internal static method of a product assembly once, at set-up:
/// the call itself is then a direct delegate call, with no reflection in the measured
/// time. (An InternalsVisibleTo for this project would make this unnecessary.)
/// </summary>
internal static class InternalEntryPoint
{
    public static TDelegate Bind<TDelegate>(Assembly assembly, string typeName, string methodName)
        where TDelegate : Delegate
    {
        var type = assembly.GetType(typeName)
            ?? throw new InvalidOperationException($"{typeName} not found in {assembly.GetName().Name}: the benchmark needs updating");
        var parameters = typeof(TDelegate).GetMethod("Invoke")!.GetParameters();
        var types = new Type[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            types[i] = parameters[i].ParameterType;
        }
        var method = type.GetMethod(methodName, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, types)
            ?? throw new InvalidOperationException($"{typeName}.{methodName} with this signature not found: the benchmark needs updating");
        return method.CreateDelegate<TDelegate>();
    }
}
