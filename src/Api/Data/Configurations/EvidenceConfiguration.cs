using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PvsFleet.Api.Data.Configurations;

internal sealed class StoredEvidenceClipConfiguration : IEntityTypeConfiguration<StoredEvidenceClip>
{
    public void Configure(EntityTypeBuilder<StoredEvidenceClip> b)
    {
        b.ToTable("EvidenceClips");
        b.Property(x => x.Mac).HasMaxLength(17);
        b.Property(x => x.Reason).HasMaxLength(16);
        // The session page asks for a session's newest clip; retention deletes the oldest first.
        b.HasIndex(x => new { x.SessionId, x.CreatedAt });
        b.HasIndex(x => x.CreatedAt);
    }
}

internal sealed class EvidenceRequestConfiguration : IEntityTypeConfiguration<EvidenceRequest>
{
    public void Configure(EntityTypeBuilder<EvidenceRequest> b)
    {
        b.ToTable("EvidenceRequests");
        b.Property(x => x.Mac).HasMaxLength(17);
        // Every ingest batch asks for its collector's unsent requests: only those rows are in this index.
        b.HasIndex(x => x.CollectorId, "IX_EvidenceRequests_Unsent").HasFilter("\"SentAt\" IS NULL");
        b.HasIndex(x => new { x.SessionId, x.RequestedAt });
    }
}
