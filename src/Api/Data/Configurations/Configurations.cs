using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using PvsFleet.Contracts;

namespace PvsFleet.Api.Data.Configurations;

internal sealed class SiteConfiguration : IEntityTypeConfiguration<Site>
{
    public void Configure(EntityTypeBuilder<Site> b)
    {
        b.Property(x => x.Name).HasMaxLength(100);
        b.HasIndex(x => x.Name).IsUnique();
    }
}

internal sealed class CollectorConfiguration : IEntityTypeConfiguration<Collector>
{
    public void Configure(EntityTypeBuilder<Collector> b)
    {
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.KeyHash).HasMaxLength(64);
        b.Property(x => x.KeyPrefix).HasMaxLength(16);
        b.Property(x => x.Interface).HasMaxLength(200);
        b.Property(x => x.Version).HasMaxLength(100);
        b.HasIndex(x => x.KeyHash).IsUnique();
        b.HasIndex(x => new { x.SiteId, x.Name }).IsUnique();
        b.HasOne(x => x.Site).WithMany().HasForeignKey(x => x.SiteId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class CollectorInstanceConfiguration : IEntityTypeConfiguration<CollectorInstance>
{
    public void Configure(EntityTypeBuilder<CollectorInstance> b)
    {
        b.ToTable("CollectorInstances");
        b.HasKey(x => new { x.CollectorId, x.Instance });
        b.Property(x => x.Host).HasMaxLength(200);
        b.Property(x => x.Interface).HasMaxLength(200);
        b.Property(x => x.Version).HasMaxLength(100);
        // Written with every batch of the instance: no index but the key, so the update stays in place (HOT).
        b.HasStorageParameter("fillfactor", 70);
    }
}

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<Device>
{
    public void Configure(EntityTypeBuilder<Device> b)
    {
        b.Property(x => x.Mac).HasMaxLength(17);
        b.Property(x => x.LastIp).HasMaxLength(45);
        b.Property(x => x.HostName).HasMaxLength(255);
        b.HasIndex(x => x.Mac).IsUnique();
        // Every event rewrites its device (phase, outcome, last seen). With no index on those columns PostgreSQL updates
        // the row in place (a HOT update: no new index entries) while its page has room, which the fill factor keeps.
        // The live counts per site read all devices: a table of one row per device scans in milliseconds.
        // Fill factor 50, not the history tables' 70: at 70 a fifth of the updates still found no room (79 % HOT in a
        // storm), at 50 all are HOT (4 % less PostgreSQL CPU per event), and one row per device costs nothing in space.
        b.HasIndex(x => x.SiteId);
        b.HasIndex(x => x.HostName);
        b.HasStorageParameter("fillfactor", 50);
        b.HasOne(x => x.Site).WithMany().HasForeignKey(x => x.SiteId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class StoredSessionConfiguration : IEntityTypeConfiguration<StoredSession>
{
    public void Configure(EntityTypeBuilder<StoredSession> b)
    {
        b.ToTable("Sessions");
        b.Property(x => x.Id).ValueGeneratedNever();
        b.Property(x => x.Mac).HasMaxLength(17);
        b.Property(x => x.Ip).HasMaxLength(45);
        b.Property(x => x.BootFile).HasMaxLength(256);
        b.Property(x => x.HostName).HasMaxLength(255);
        b.Property(x => x.DhcpServer).HasMaxLength(45);
        b.Property(x => x.TftpServer).HasMaxLength(45);
        b.Property(x => x.PvsServer).HasMaxLength(45);
        b.Property(x => x.StreamServer).HasMaxLength(45);
        // Serve the statistics and exports (a time range, perhaps of one site: the site is checked inside the index) and
        // the device page (device + time). One index for the time range, not one per site and one for all: each index
        // is written with every session.
        b.HasIndex(x => new { x.StartedAt, x.SiteId });
        b.HasIndex(x => new { x.DeviceId, x.StartedAt });
        // Serves the alert evaluator: the few sessions that are not finished or failed. Not the phase, which changes with
        // every event: see Devices on HOT updates.
        b.HasIndex(x => x.Outcome, "IX_Sessions_NotBooted").HasFilter($"\"Outcome\" <> {(int)BootOutcome.Booted}");
        b.HasStorageParameter("fillfactor", 70);
        // No foreign keys to Sites and Collectors, from phases to sessions, or on Events: the ingest is the only writer
        // of these rows, takes site and collector from the collector row it has locked, writes a session before its
        // phases in one transaction, and nothing is ever deleted but raw events (collector keys are revoked). PostgreSQL
        // checks a foreign key with a query per inserted row: on the ingest path those checks were a third of its CPU.
        // So the phases are loaded explicitly where they are needed, not through a relationship. The device is a
        // relationship for the queries; on PostgreSQL the partitioned table carries no constraint for it either
        // (PostgresSchema.PartitionByMonthFunction says why).
        b.HasOne(x => x.Device).WithMany().HasForeignKey(x => x.DeviceId).OnDelete(DeleteBehavior.Cascade);
        b.Ignore(x => x.Phases);
    }
}

internal sealed class SessionPhaseConfiguration : IEntityTypeConfiguration<SessionPhase>
{
    public void Configure(EntityTypeBuilder<SessionPhase> b)
    {
        b.HasKey(x => new { x.SessionId, x.Phase });
        // A phase row is written when the phase starts and again when it ends: room for the second write on the page.
        b.HasStorageParameter("fillfactor", 70);
        // Every per-phase statistics query names the phase and a time range, perhaps of one site.
        b.HasIndex(x => new { x.Phase, x.SessionStartedAt, x.SiteId });
    }
}

internal sealed class IngestedEventConfiguration : IEntityTypeConfiguration<IngestedEvent>
{
    public void Configure(EntityTypeBuilder<IngestedEvent> b)
    {
        b.ToTable("Events");
        b.Property(x => x.Type).HasMaxLength(32);
        // The idempotency key: a batch sent twice is stored once. Sequences count per collector instance (see
        // CollectorInstance), so two instances sharing a key, or a spool made anew, never collide.
        b.HasIndex(x => new { x.CollectorId, x.Instance, x.Sequence }).IsUnique();
        b.HasIndex(x => new { x.SessionId, x.Timestamp });
        // Retention deletes by receipt time, which grows with the table's physical order: a BRIN index on PostgreSQL
        // (a few pages, next to nothing per insert) serves it as well as a B-tree would.
        b.HasIndex(x => x.ReceivedAt).HasMethod("brin");
    }
}

internal sealed class AlertConfiguration : IEntityTypeConfiguration<Alert>
{
    public void Configure(EntityTypeBuilder<Alert> b)
    {
        b.Property(x => x.Message).HasMaxLength(1000);
        b.Property(x => x.Mac).HasMaxLength(17);
        b.Property(x => x.AcknowledgedBy).HasMaxLength(200);
        b.Property(x => x.Server).HasMaxLength(100);
        b.Property(x => x.Hint).HasMaxLength(512);
        b.HasIndex(x => new { x.State, x.Kind });
        b.HasIndex(x => new { x.SiteId, x.State });
        b.HasIndex(x => x.SessionId);
        b.HasOne(x => x.Site).WithMany().HasForeignKey(x => x.SiteId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AlertDeviceConfiguration : IEntityTypeConfiguration<AlertDevice>
{
    public void Configure(EntityTypeBuilder<AlertDevice> b)
    {
        b.HasKey(x => new { x.AlertId, x.Mac });
        b.Property(x => x.Mac).HasMaxLength(17);
        b.HasOne(x => x.Alert).WithMany().HasForeignKey(x => x.AlertId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DurationHistogramBinConfiguration : IEntityTypeConfiguration<DurationHistogramBin>
{
    public void Configure(EntityTypeBuilder<DurationHistogramBin> b)
    {
        b.ToTable("DurationHistogram");
        // Series and hour lead: every statistics query has both, with or without a site.
        b.HasKey(x => new { x.Series, x.Hour, x.SiteId, x.CollectorId, x.Bin });
    }
}

internal sealed class DurationDayRollupBinConfiguration : IEntityTypeConfiguration<DurationDayRollupBin>
{
    public void Configure(EntityTypeBuilder<DurationDayRollupBin> b)
    {
        b.ToTable("DurationRollupDay");
        // Day before site: the all-sites read of a month is one range of the key (the one-site read filters it).
        b.HasKey(x => new { x.Series, x.Day, x.SiteId, x.Bin });
    }
}

internal sealed class DurationHourRollupBinConfiguration : IEntityTypeConfiguration<DurationHourRollupBin>
{
    public void Configure(EntityTypeBuilder<DurationHourRollupBin> b)
    {
        b.ToTable("DurationRollupHour");
        b.HasKey(x => new { x.Series, x.Hour, x.Bin });
    }
}

internal sealed class DurationRollupCutoffConfiguration : IEntityTypeConfiguration<DurationRollupCutoff>
{
    public void Configure(EntityTypeBuilder<DurationRollupCutoff> b)
    {
        b.ToTable("DurationRollupCutoff");
        b.Property(x => x.Id).ValueGeneratedNever();
        // Made with the empty histogram, so the rollups equal the histogram before the cut-off from the first row on.
        b.HasData(new DurationRollupCutoff { Id = DurationRollup.CutoffId, RolledUpTo = DurationRollup.Beginning });
    }
}
