namespace PvsFleet.CollectorAgent.Tests.Support;

/// <summary>
/// A test class's own PostgreSQL database with the real API running over it as a process, and a scratch folder;
/// all removed afterwards.
/// </summary>
public abstract class ApiTestBase : IAsyncLifetime
{
    protected TestDatabase Database { get; } = new();
    protected string Work { get; } = CollectorProgram.TemporaryDirectory();
    protected ApiServer Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Api = new ApiServer(Database);
        if (Database.ConnectionString is not null)
        {
            await Api.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        await Database.DisposeAsync();
        Directory.Delete(Work, recursive: true);
    }

    protected static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(200);
        }
    }
}
