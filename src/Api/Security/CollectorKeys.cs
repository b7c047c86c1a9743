using System.Security.Cryptography;
using System.Text;

namespace PvsFleet.Api.Security;

/// <summary>
/// Collector keys are 256 random bits; only their SHA-256 is stored. A salted slow hash buys nothing for a secret
/// of that entropy, and the lookup stays one indexed equality per request.
/// </summary>
public static class CollectorKeys
{
    public const string Prefix = "pvsk_";

    public static string NewKey() => Prefix + Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string DisplayPrefix(string key) => key[..Math.Min(key.Length, 12)];

    private static string Base64UrlEncode(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
