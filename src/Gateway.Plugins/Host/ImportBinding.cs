using Wasmtime;

namespace Gateway.Plugins.Host;

/// <summary>The body of a host import that returns an i32 (a proxy status or a WASI errno).</summary>
internal delegate int ImportBody(Caller caller, ReadOnlySpan<ImportArg> args);

/// <summary>
/// Defines an import in a linker with the runtime's typed callbacks, which hand the arguments over as they are. The
/// untyped ones convert each argument into a boxed value and rent two arrays per call, several times the cost of most
/// imports themselves. The shapes typed here are every proxy-wasm import's (i32s only, or an i32 and an i64) and
/// <c>clock_time_get</c>'s; the few others fall back to the untyped form.
/// </summary>
internal static class ImportBinding
{
    public static void Define(Linker linker, string module, string name, ValueKind[] parameters, ImportBody body)
    {
        switch (Shape(parameters))
        {
            case "":
                linker.DefineFunction(module, name, (Caller c) => body(c, []));
                break;
            case "i":
                linker.DefineFunction(module, name, (Caller c, int p0) => body(c, [p0]));
                break;
            case "ii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1) => body(c, [p0, p1]));
                break;
            case "iii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2) => body(c, [p0, p1, p2]));
                break;
            case "iiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3) => body(c, [p0, p1, p2, p3]));
                break;
            case "iiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4) =>
                    body(c, [p0, p1, p2, p3, p4]));
                break;
            case "iiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5) =>
                    body(c, [p0, p1, p2, p3, p4, p5]));
                break;
            case "iiiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5, int p6) =>
                    body(c, [p0, p1, p2, p3, p4, p5, p6]));
                break;
            case "iiiiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7) =>
                    body(c, [p0, p1, p2, p3, p4, p5, p6, p7]));
                break;
            case "iiiiiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8) =>
                    body(c, [p0, p1, p2, p3, p4, p5, p6, p7, p8]));
                break;
            case "iiiiiiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8, int p9) =>
                    body(c, [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9]));
                break;
            case "iiiiiiiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8, int p9, int p10) =>
                    body(c, [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10]));
                break;
            case "iiiiiiiiiiii":
                linker.DefineFunction(module, name, (Caller c, int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7, int p8, int p9, int p10, int p11) =>
                    body(c, [p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10, p11]));
                break;
            case "iI":
                linker.DefineFunction(module, name, (Caller c, int p0, long p1) => body(c, [p0, p1]));
                break;
            case "iIi":
                linker.DefineFunction(module, name, (Caller c, int p0, long p1, int p2) => body(c, [p0, p1, p2]));
                break;
            default:
                // WASI calls no plugin makes per request, with an i64 among their arguments (fd_seek, path_open).
                var kinds = parameters;
                linker.DefineFunction(module, name, (Caller caller, ReadOnlySpan<ValueBox> args, Span<ValueBox> results) =>
                {
                    Span<ImportArg> widened = args.Length <= 16 ? stackalloc ImportArg[args.Length] : new ImportArg[args.Length];
                    for (int i = 0; i < args.Length; i++)
                    {
                        widened[i] = kinds[i] switch
                        {
                            ValueKind.Int32 => args[i].AsInt32(),
                            ValueKind.Int64 => args[i].AsInt64(),
                            _ => ImportArg.FromDouble(args[i].AsDouble()),
                        };
                    }
                    results[0] = body(caller, widened);
                }, parameters, [ValueKind.Int32]);
                break;
        }
    }

    /// <summary>The parameter kinds as a signature string: i = i32, I = i64, F = f64.</summary>
    private static string Shape(ValueKind[] parameters) => string.Create(parameters.Length, parameters, static (chars, kinds) =>
    {
        for (int i = 0; i < kinds.Length; i++)
        {
            chars[i] = kinds[i] switch
            {
                ValueKind.Int32 => 'i',
                ValueKind.Int64 => 'I',
                _ => 'F',
            };
        }
    });
}
