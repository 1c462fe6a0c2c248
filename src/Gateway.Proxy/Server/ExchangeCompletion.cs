using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gateway.Http.Async;
using Gateway.Proxy.Forwarding;
using Gateway.Proxy.Logging;
using Gateway.Proxy.Upstream;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy.Server;

/// <summary>
/// The one exit of every exchange (Pingora's <c>finish</c> and <c>logging</c>): <see cref="FinishAsync"/> answers what
/// nothing answered yet, counts and logs the failure, and records the request's metrics; <see cref="WriteAccessLine"/>
/// writes its access log line, also for an exchange the client abandoned. Each happens once per request.
/// </summary>
internal sealed class ExchangeCompletion
{
    private readonly ClientConnection _client;
    private readonly ExchangeState _state;
    private readonly ILogger _logger;

    public ExchangeCompletion(ClientConnection client, ExchangeState state, ILogger logger)
    {
        _client = client;
        _state = state;
        _logger = logger;
    }

    /// <summary>Ends the request as its state says; returns whether the connection may carry another request.</summary>
    [AsyncMethodBuilder(typeof(PooledFrameBuilder<>))]
    public async ValueTask<bool> FinishAsync()
    {
        ExchangeState s = _state;
        ExchangeError error = s.Error;
        long elapsed = Stopwatch.GetElapsedTime(s.Started).Ticks;
        bool answer = !s.ResponseStarted && (s.Reply is not null || (!error.IsNone && ExchangeErrors.Answers(error)));
        int status = answer ? s.Reply?.StatusCode ?? ExchangeErrors.StatusCode(error)
            : s.ResponseStatus != 0 ? s.ResponseStatus : ExchangeErrors.StatusCode(error);
        if (!error.IsNone)
        {
            Report(error, status);
        }
        s.Snapshot.Metrics.RequestCompleted(s.Route?.Index ?? -1, status, elapsed);
        s.Access.Complete(s.Route?.Name, status, elapsed);
        if (!answer)
        {
            return error.IsNone && s.ResponseKeepAlive;
        }

        ExchangeStage stage = s.Reply is null ? error.Stage : s.ReplyStage;
        bool close = !(s.KeepAlive && s.BodyRead && ExchangeErrors.AllowsKeepAlive(stage)) || _client.Server.IsDraining;
        if (s.Reply is { } reply)
        {
            s.Access.Plugins = PluginOutcomes.LocalReply;
            s.LocalResponseBytes = LocalResponse.WriteReply(_client.Output, reply.StatusCode, reply.Headers, reply.Body.Span, close, s.HeadRequest);
        }
        else
        {
            s.LocalResponseBytes = LocalResponse.WriteError(_client.Output, status, ExchangeErrors.Reason(error), s.RequestId, close, s.HeadRequest);
        }
        return await _client.FlushAsync() && !close;
    }

    /// <summary>The failure's counter and log line; <paramref name="status"/> is what the client got or was getting.</summary>
    private void Report(in ExchangeError error, int status)
    {
        ExchangeState s = _state;
        ProxyMetrics metrics = s.Snapshot.Metrics;
        string stage = ExchangeErrors.Label(error.Stage);
        string route = s.Route?.Name ?? "";
        switch (error.Fault)
        {
            case ExchangeFault.Rejected:
                metrics.Rejected(error.Rejection);
                if (error.Stage == ExchangeStage.RequestBody)
                {
                    ProxyLog.ClientBodyFailed(_logger, route, ExchangeErrors.Reason(error), s.RequestId);
                }
                else
                {
                    ProxyLog.RequestRejected(_logger, stage, error.Rejection.ToString(), status, ClientAddress);
                }
                break;
            case ExchangeFault.TimedOut:
                metrics.ClientTimedOut(error.Timeout);
                if (error.Stage == ExchangeStage.RequestHead)
                {
                    ProxyLog.RequestRejected(_logger, stage, "header_timeout", status, ClientAddress);
                }
                else
                {
                    ProxyLog.ClientTimedOut(_logger, route, stage, ClientTimeouts.Label(error.Timeout), status, ClientAddress, s.RequestId);
                }
                break;
            case ExchangeFault.ClientClosed when error.Stage == ExchangeStage.RequestBody:
                ProxyLog.ClientBodyFailed(_logger, route, ExchangeErrors.Reason(error), s.RequestId);
                break;
            case ExchangeFault.Upstream:
                metrics.UpstreamFailed(s.Route!.Cluster.Index, error.Upstream);
                ProxyLog.UpstreamFailed(
                    _logger, route, s.Route.Cluster.Name, stage, UpstreamErrors.Label(error.Upstream), status, s.Upstream?.Endpoint.HostHeader ?? "", s.RequestId);
                break;
            case ExchangeFault.PluginFailed:
                s.Access.Plugins = PluginOutcomes.Failed;
                ProxyLog.PluginFailed(_logger, route, stage, s.RequestId);
                break;
            case ExchangeFault.PluginReset:
                s.Access.Plugins = PluginOutcomes.Reset;
                break;
            case ExchangeFault.NoRoute:
                ProxyLog.NoRoute(_logger, s.Request.Authority, s.RequestId);
                break;
            case ExchangeFault.HeldTooLarge:
                ProxyLog.HeldBodyTooLarge(_logger, "response", route, status, s.RequestId);
                break;
        }
    }

    private string ClientAddress => _client.Remote?.ToString() ?? "";

    /// <summary>The request's access log line; one for an exchange the client abandoned too (status 0: no response completed).</summary>
    public void WriteAccessLine(long requestBodyBytes, long responseBodyBytes)
    {
        if (_state.Snapshot.AccessLogEnabled && _client.Server.AccessLog is { } log)
        {
            log.Write(_state.Access.ToEntry(_client.Listener.Name, _state.Request, _state.RequestId, requestBodyBytes, responseBodyBytes, _client.Remote));
        }
    }
}
