using Microsoft.JSInterop;

namespace PvsFleet.Web.Services;

/// <summary>
/// The admin key or token of an API that requires one, kept in this browser's local storage. An API without
/// authentication (the localhost default) needs none and this stays empty.
/// </summary>
public sealed class ApiKey(IJSRuntime js)
{
    private const string StorageKey = "pvsfleet.apiKey";

    public string? Value { get; private set; }

    public event Action? Changed;

    public async Task LoadAsync()
    {
        try
        {
            Value = await js.InvokeAsync<string?>("localStorage.getItem", StorageKey);
        }
        catch (JSException)
        {
            Value = null;
        }
    }

    public async Task SetAsync(string? value)
    {
        Value = string.IsNullOrWhiteSpace(value) ? null : value.Trim();
        if (Value is null)
            await js.InvokeVoidAsync("localStorage.removeItem", StorageKey);
        else
            await js.InvokeVoidAsync("localStorage.setItem", StorageKey, Value);
        Changed?.Invoke();
    }
}
