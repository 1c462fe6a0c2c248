using Gateway.Plugins.Abi;

namespace Gateway.Plugins.Contexts;

/// <summary>What the value a header or trailer callback returned means for its phase.</summary>
internal static class HeaderAction
{
    /// <summary>
    /// docs/proxy-wasm.md, 'Stream control': 0 and 2 continue; 1, 3, 4 and above pause the whole direction, except that
    /// a Higress 0.2.100 module's 1 on headers is StopIteration: only the headers wait while its body callbacks go on.
    /// With no body to come, that can end only by proxy_continue_stream: a pause.
    /// </summary>
    public static StepResult Of(int action, StreamPhase phase, bool endOfStream, AbiVersion abi)
    {
        if (action is 0 or 2)
        {
            return StepResult.Continue;
        }
        bool headers = phase is StreamPhase.RequestHeaders or StreamPhase.ResponseHeaders;
        return action == 1 && headers && !endOfStream && abi == AbiVersion.V0_2_100 ? StepResult.HoldHeaders : StepResult.Pause;
    }
}
