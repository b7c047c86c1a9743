namespace PvsFleet.Api.Queries;

public readonly record struct Paging(int Page, int Size)
{
    public const int MaxPageSize = 500;

    public int Skip => (Page - 1) * Size;

    public static Paging Check(int? page, int? pageSize, Dictionary<string, string[]> errors)
    {
        var p = page ?? 1;
        var s = pageSize ?? 50;
        if (p < 1)
            errors["page"] = ["Pages start at 1."];
        // (page - 1) × size is the OFFSET: it must stay an int.
        else if (p > int.MaxValue / MaxPageSize)
            errors["page"] = [$"At most {int.MaxValue / MaxPageSize}."];
        if (s is < 1 or > MaxPageSize)
            errors["pageSize"] = [$"Between 1 and {MaxPageSize}."];
        return new Paging(Math.Clamp(p, 1, int.MaxValue / MaxPageSize), Math.Clamp(s, 1, MaxPageSize));
    }
}
