namespace PvsFleet.EndToEnd.Tests.Support;

/// <summary>
/// One Chromium for all end-to-end tests. Each test starts an API of its own: the collector's captures and simulated
/// storms reuse MAC addresses, and a device belongs to the site that saw it last, so tests sharing a database would
/// move each other's devices.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BrowserTests : ICollectionFixture<Browser>
{
    public const string Name = "browser";
}
