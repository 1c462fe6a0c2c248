namespace Gateway.Http.Parsing;

/// <summary>Outcome of one attempt to parse a message head.</summary>
public enum ParseStatus
{
    /// <summary>The head is not complete yet; nothing was consumed. Call again with the same bytes plus more.</summary>
    Incomplete,

    /// <summary>The head was parsed and validated; the reader stands on the first body byte.</summary>
    Complete,

    /// <summary>The head breaks a rule; the connection must not carry another message (G-8).</summary>
    Rejected,
}
