using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace PvsFleet.Api.Data;

/// <summary>
/// The fleet's storage. One model, two providers: each provider has its own subclass so that its migrations
/// live apart (Data/Migrations/Postgres, Data/Migrations/Sqlite) and are generated and applied for real.
/// </summary>
public abstract class FleetDbContext(DbContextOptions options) : DbContext(options)
{
    public DbSet<Site> Sites => Set<Site>();
    public DbSet<Collector> Collectors => Set<Collector>();
    public DbSet<CollectorInstance> CollectorInstances => Set<CollectorInstance>();
    public DbSet<Device> Devices => Set<Device>();
    public DbSet<StoredSession> Sessions => Set<StoredSession>();
    public DbSet<SessionPhase> SessionPhases => Set<SessionPhase>();
    public DbSet<IngestedEvent> Events => Set<IngestedEvent>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<AlertDevice> AlertDevices => Set<AlertDevice>();
    public DbSet<StoredEvidenceClip> EvidenceClips => Set<StoredEvidenceClip>();
    public DbSet<EvidenceRequest> EvidenceRequests => Set<EvidenceRequest>();

    public abstract bool IsPostgres { get; }

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(FleetDbContext).Assembly);
}

public sealed class PostgresFleetDbContext(DbContextOptions<PostgresFleetDbContext> options) : FleetDbContext(options)
{
    public override bool IsPostgres => true;

    // Sessions, phases and events are partitioned by month on PostgreSQL (PostgresSchema), and PostgreSQL wants the
    // partition key in every primary key and unique index of a partitioned table. SQLite keeps the keys of the
    // configurations: it does not partition, and it can only generate a key of one INTEGER column.
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Entity<StoredSession>().HasKey(x => new { x.Id, x.StartedAt });
        // A phase carries its session's start: it lands in the same month as its session, and is dropped with it.
        modelBuilder.Entity<SessionPhase>().HasKey(x => new { x.SessionId, x.SessionStartedAt, x.Phase });
        var events = modelBuilder.Entity<IngestedEvent>();
        // The idempotency key with the event's own time is the primary key: a batch sent again carries the same
        // times, so it still meets its first copy in the same partition. (The receipt time would not: it differs with
        // every send.) No id column: nothing reads an event by id, and a key of its own was one more index to write
        // with every event, the most written table.
        var idempotency = events.Metadata.FindIndex([
            events.Metadata.FindProperty(nameof(IngestedEvent.CollectorId))!, events.Metadata.FindProperty(nameof(IngestedEvent.Instance))!,
            events.Metadata.FindProperty(nameof(IngestedEvent.Sequence))!])!;
        events.Metadata.RemoveIndex(idempotency);
        events.HasKey(x => new { x.CollectorId, x.Instance, x.Sequence, x.Timestamp });
        events.Ignore(x => x.Id);
    }
}

public sealed class SqliteFleetDbContext(DbContextOptions<SqliteFleetDbContext> options) : FleetDbContext(options)
{
    public override bool IsPostgres => false;

    // The duration histogram and its rollups are kept by the PostgreSQL ingest only; SQLite computes statistics from the rows.
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.Ignore<DurationHistogramBin>();
        modelBuilder.Ignore<DurationDayRollupBin>();
        modelBuilder.Ignore<DurationHourRollupBin>();
        modelBuilder.Ignore<DurationRollupCutoff>();
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite keeps DateTime as text without a kind; everything stored is UTC, so say so when reading back.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
