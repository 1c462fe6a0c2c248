using System.Text;

namespace Gateway.Admin;

/// <summary>What the admin port reports; implemented by the running gateway.</summary>
public interface IAdminEndpoints
{
    /// <summary>Null when ready (listeners bound, config loaded, not draining); otherwise why not.</summary>
    string? NotReadyReason { get; }

    void WriteMetrics(StringBuilder output);

    string RedactedConfigJson();
}
