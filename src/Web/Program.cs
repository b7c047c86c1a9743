using MudBlazor.Services;
using PvsFleet.Web.Services;

// The browser half: the API renders the document and the pages first (see App.razor); this runtime takes them over.
var builder = Microsoft.AspNetCore.Components.WebAssembly.Hosting.WebAssemblyHostBuilder.CreateDefault(args);
builder.Services.AddScoped(_ => new HttpClient { BaseAddress = new Uri(builder.HostEnvironment.BaseAddress) });
builder.Services.AddMudServices();
builder.Services.AddWebServices();

var host = builder.Build();
await host.Services.GetRequiredService<ApiKey>().LoadAsync();
await host.RunAsync();
