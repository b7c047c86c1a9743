using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using PvsFleet.Web.Services;

namespace PvsFleet.Web.Tests;

/// <summary>
/// The API as the pages see it over HTTP: answers by method and path (query ignored unless a route asks for it), so
/// the real <see cref="FleetApi"/> with its JSON settings and error handling is under test too.
/// </summary>
public sealed class StubApi : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, Func<HttpRequestMessage, Task<HttpResponseMessage>>> routes = new();

    public ConcurrentQueue<HttpRequestMessage> Requests { get; } = new();

    public void Json<T>(string path, T body, HttpMethod? method = null) =>
        routes[Key(method, path)] = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(body, options: FleetApi.Json) });

    public void Json<T>(string path, Func<HttpRequestMessage, T> body, HttpMethod? method = null) =>
        routes[Key(method, path)] = r => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = JsonContent.Create(body(r), options: FleetApi.Json) });

    public void Text(string path, string text) =>
        routes[Key(null, path)] = _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(text, Encoding.UTF8, "text/csv") });

    /// <summary>Answers with an RFC 7807 problem, as the API does.</summary>
    public void Problem(string path, HttpStatusCode status, string detail, HttpMethod? method = null) =>
        routes[Key(method, path)] = _ => Task.FromResult(new HttpResponseMessage(status)
        {
            Content = new StringContent($$"""{"title":"Problem","status":{{(int)status}},"detail":"{{detail}}"}""", Encoding.UTF8, "application/problem+json"),
        });

    /// <summary>Holds the answer until the returned source is completed: the page stays in its loading state meanwhile.</summary>
    public TaskCompletionSource Hold(string path)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inner = routes[Key(null, path)];
        routes[Key(null, path)] = async r =>
        {
            await gate.Task;
            return await inner(r);
        };
        return gate;
    }

    public int Count(string path, HttpMethod? method = null) =>
        Requests.Count(r => Uri.UnescapeDataString(r.RequestUri!.AbsolutePath) == "/" + path && r.Method == (method ?? HttpMethod.Get));

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        var path = Uri.UnescapeDataString(request.RequestUri!.AbsolutePath).TrimStart('/');
        return routes.TryGetValue(Key(request.Method, path), out var route)
            ? route(request)
            : Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound)
            {
                Content = new StringContent("""{"title":"Not Found","status":404}""", Encoding.UTF8, "application/problem+json"),
            });
    }

    private static string Key(HttpMethod? method, string path) => (method ?? HttpMethod.Get).Method + " " + path.TrimStart('/');
}
