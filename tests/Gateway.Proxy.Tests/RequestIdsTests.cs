using System.Text;
using Gateway.Proxy.Forwarding;

namespace Gateway.Proxy.Tests;

public sealed class RequestIdsTests
{
    [Fact]
    public void Write_PrintsARandomUuid_AsThirtyTwoLowerCaseHexDigits()
    {
        var seen = new HashSet<string>();
        byte[] digits = new byte[RequestIds.Digits];
        for (int i = 0; i < 1000; i++)
        {
            RequestIds.Write(digits);
            string id = Encoding.ASCII.GetString(digits);
            Assert.Matches("^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$", id);
            Assert.True(Guid.TryParseExact(id, "N", out Guid parsed));
            Assert.Equal(4, parsed.Version);
            Assert.True(seen.Add(id));
        }
    }
}
