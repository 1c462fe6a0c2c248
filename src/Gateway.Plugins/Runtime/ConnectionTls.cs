namespace Gateway.Plugins.Runtime;

/// <summary>
/// The TLS facts of a client connection that plugins read as Envoy's <c>connection.*</c> properties:
/// <c>tls_version</c>, <c>mtls</c>, <c>subject_peer_certificate</c>, <c>requested_server_name</c>.
/// </summary>
public sealed record ConnectionTls(string Version, bool Mtls, string? PeerSubject, string? RequestedServerName);
