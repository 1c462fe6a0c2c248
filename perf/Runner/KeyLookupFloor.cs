using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gateway.Perf.Load;

namespace Gateway.Perf.Runner;

/// <summary>
/// The physical floor of the api_key plugin's lookup on a seeded database (PostgreSQL or MariaDB): the plugin's
/// statement, one round trip at a time, over the seeded keys in turn.
/// </summary>
public static class KeyLookupFloor
{
    public static LatencySummary Measure(DbCommand command, DbParameter keyHash, long seededKeys, int samples)
    {
        var recorder = new LatencyRecorder();
        for (var i = 0; i < samples; i++)
        {
            keyHash.Value = KeyHash(i % seededKeys);
            var start = MonotonicClock.NowNs;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                }
            }
            recorder.Record(MonotonicClock.NowNs - start);
        }
        return recorder.Summarize();
    }

    /// <summary>The lower-case hex SHA-256 of seeded key "key-<paramref name="index"/>", as the api_key plugin computes it.</summary>
    private static string KeyHash(long index) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("key-" + index.ToString(CultureInfo.InvariantCulture))));
}
