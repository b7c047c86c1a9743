using Microsoft.Playwright;

namespace PvsFleet.EndToEnd.Tests.Support;

/// <summary>
/// Debian's Chromium (package <c>chromium</c>, installed by .ci/run) driven by Playwright: no browser is downloaded.
/// PVSFLEET_CHROMIUM names another executable.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private IPlaywright? playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var executable = Environment.GetEnvironmentVariable("PVSFLEET_CHROMIUM") ?? "/usr/bin/chromium";
        if (!File.Exists(executable))
            throw new FileNotFoundException("Chromium is needed for the end-to-end tests: apt-get install chromium", executable);
        // The first load compiles the WebAssembly app on two cores: give assertions the time a user would wait.
        Assertions.SetDefaultExpectTimeout(30_000);
        playwright = await Playwright.CreateAsync();
        Chromium = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
    }

    /// <summary>A fresh page at a laptop's screen size.</summary>
    public async Task<IPage> NewPageAsync(bool dark = false)
    {
        var context = await Chromium.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
            ColorScheme = dark ? ColorScheme.Dark : ColorScheme.Light,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        return page;
    }

    /// <summary>Saves the page under TestResults/screenshots, the artifact a reviewer looks at.</summary>
    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Repo.Results("screenshots"), name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
            await Chromium.DisposeAsync();
        playwright?.Dispose();
    }
}
