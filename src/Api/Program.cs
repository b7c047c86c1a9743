var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();

app.UseBlazorFrameworkFiles();
app.UseStaticFiles();
app.MapGet("/healthz", () => TypedResults.Ok("healthy"));
app.MapFallbackToFile("index.html");

app.Run();

/// <summary>Entry point, public so that tests can host the API with WebApplicationFactory.</summary>
public partial class Program;
