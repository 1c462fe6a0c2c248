namespace Gateway.Http.Messages;

/// <summary>
/// Fields the gateway adds to a head after the client's, kept in a form of their own (lines it writes as they are)
/// until something reads the head's fields: then they become fields like any other, in that place.
/// </summary>
public interface IDeferredFields
{
    /// <summary>How many fields they are.</summary>
    int Count { get; }

    /// <summary>Bytes they take as written: "name: value" CRLF each.</summary>
    int Bytes { get; }

    /// <summary>Appends them to <paramref name="headers"/>; from then on they are those fields, no longer lines of their own.</summary>
    void AddTo(HeaderCollection headers);
}
