using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CollectorInstances",
                columns: table => new
                {
                    CollectorId = table.Column<int>(type: "integer", nullable: false),
                    Instance = table.Column<Guid>(type: "uuid", nullable: false),
                    FirstSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSequence = table.Column<long>(type: "bigint", nullable: false),
                    Host = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Interface = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Version = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    PacketsReceived = table.Column<long>(type: "bigint", nullable: false),
                    PacketsDropped = table.Column<long>(type: "bigint", nullable: false),
                    InterfaceDropped = table.Column<long>(type: "bigint", nullable: false),
                    ActiveSessions = table.Column<int>(type: "integer", nullable: false),
                    SpooledEvents = table.Column<long>(type: "bigint", nullable: false),
                    RefusedEvents = table.Column<long>(type: "bigint", nullable: false),
                    RejectedEvents = table.Column<long>(type: "bigint", nullable: false),
                    CorruptSpoolLines = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CollectorInstances", x => new { x.CollectorId, x.Instance });
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.CreateTable(
                name: "DurationHistogram",
                columns: table => new
                {
                    Series = table.Column<int>(type: "integer", nullable: false),
                    Hour = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    CollectorId = table.Column<int>(type: "integer", nullable: false),
                    Bin = table.Column<int>(type: "integer", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false),
                    MaxMs = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DurationHistogram", x => new { x.Series, x.Hour, x.SiteId, x.CollectorId, x.Bin });
                });

            migrationBuilder.CreateTable(
                name: "DurationRollupCutoff",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false),
                    RolledUpTo = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DurationRollupCutoff", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "DurationRollupDay",
                columns: table => new
                {
                    Series = table.Column<int>(type: "integer", nullable: false),
                    Day = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    Bin = table.Column<int>(type: "integer", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false),
                    MaxMs = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DurationRollupDay", x => new { x.Series, x.Day, x.SiteId, x.Bin });
                });

            migrationBuilder.CreateTable(
                name: "DurationRollupHour",
                columns: table => new
                {
                    Series = table.Column<int>(type: "integer", nullable: false),
                    Hour = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Bin = table.Column<int>(type: "integer", nullable: false),
                    Count = table.Column<long>(type: "bigint", nullable: false),
                    MaxMs = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DurationRollupHour", x => new { x.Series, x.Hour, x.Bin });
                });

            migrationBuilder.CreateTable(
                name: "Events",
                columns: table => new
                {
                    CollectorId = table.Column<int>(type: "integer", nullable: false),
                    Instance = table.Column<Guid>(type: "uuid", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    Timestamp = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Type = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: true),
                    ReceivedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Payload = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Events", x => new { x.CollectorId, x.Instance, x.Sequence, x.Timestamp });
                });

            migrationBuilder.CreateTable(
                name: "EvidenceClips",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    CollectorId = table.Column<int>(type: "integer", nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Mac = table.Column<string>(type: "character varying(17)", maxLength: 17, nullable: false),
                    Reason = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    FirstFrameAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastFrameAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    Frames = table.Column<int>(type: "integer", nullable: false),
                    Bytes = table.Column<int>(type: "integer", nullable: false),
                    Data = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EvidenceClips", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "EvidenceRequests",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    CollectorId = table.Column<int>(type: "integer", nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Mac = table.Column<string>(type: "character varying(17)", maxLength: 17, nullable: false),
                    RequestedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SentAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EvidenceRequests", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "SessionPhases",
                columns: table => new
                {
                    SessionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Phase = table.Column<int>(type: "integer", nullable: false),
                    SessionStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    EndedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    DurationMs = table.Column<double>(type: "double precision", nullable: true),
                    Retries = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SessionPhases", x => new { x.SessionId, x.SessionStartedAt, x.Phase });
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.CreateTable(
                name: "Sites",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Sites", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "Alerts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    State = table.Column<int>(type: "integer", nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    SessionId = table.Column<Guid>(type: "uuid", nullable: true),
                    CollectorId = table.Column<int>(type: "integer", nullable: true),
                    Mac = table.Column<string>(type: "character varying(17)", maxLength: 17, nullable: true),
                    Phase = table.Column<int>(type: "integer", nullable: true),
                    Message = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false),
                    OpenedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    AcknowledgedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    AcknowledgedBy = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    ResolvedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    Finding = table.Column<int>(type: "integer", nullable: true),
                    Server = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    Hint = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    DeviceCount = table.Column<int>(type: "integer", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Alerts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Alerts_Sites_SiteId",
                        column: x => x.SiteId,
                        principalTable: "Sites",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "Collectors",
                columns: table => new
                {
                    Id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    Name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    KeyHash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    KeyPrefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    RevokedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    LastSequence = table.Column<long>(type: "bigint", nullable: false),
                    Interface = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Version = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true),
                    PacketsReceived = table.Column<long>(type: "bigint", nullable: false),
                    PacketsDropped = table.Column<long>(type: "bigint", nullable: false),
                    InterfaceDropped = table.Column<long>(type: "bigint", nullable: false),
                    ActiveSessions = table.Column<int>(type: "integer", nullable: false),
                    SpooledEvents = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Collectors", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Collectors_Sites_SiteId",
                        column: x => x.SiteId,
                        principalTable: "Sites",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "Devices",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Mac = table.Column<string>(type: "character varying(17)", maxLength: 17, nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    LastIp = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    HostName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    Firmware = table.Column<int>(type: "integer", nullable: false),
                    FirstSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastSessionId = table.Column<Guid>(type: "uuid", nullable: true),
                    LastSessionStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    CurrentPhase = table.Column<int>(type: "integer", nullable: true),
                    CurrentOutcome = table.Column<int>(type: "integer", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Devices", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Devices_Sites_SiteId",
                        column: x => x.SiteId,
                        principalTable: "Sites",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 50);

            migrationBuilder.CreateTable(
                name: "AlertDevices",
                columns: table => new
                {
                    AlertId = table.Column<long>(type: "bigint", nullable: false),
                    Mac = table.Column<string>(type: "character varying(17)", maxLength: 17, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_AlertDevices", x => new { x.AlertId, x.Mac });
                    table.ForeignKey(
                        name: "FK_AlertDevices_Alerts_AlertId",
                        column: x => x.AlertId,
                        principalTable: "Alerts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Sessions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    StartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    DeviceId = table.Column<long>(type: "bigint", nullable: false),
                    SiteId = table.Column<int>(type: "integer", nullable: false),
                    CollectorId = table.Column<int>(type: "integer", nullable: false),
                    Instance = table.Column<Guid>(type: "uuid", nullable: false),
                    Mac = table.Column<string>(type: "character varying(17)", maxLength: 17, nullable: false),
                    Ip = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    Firmware = table.Column<int>(type: "integer", nullable: false),
                    BootFile = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    HostName = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true),
                    Phase = table.Column<int>(type: "integer", nullable: false),
                    Outcome = table.Column<int>(type: "integer", nullable: false),
                    EndedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    PhaseStartedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    LastProgressAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    DurationMs = table.Column<double>(type: "double precision", nullable: true),
                    TotalRetries = table.Column<int>(type: "integer", nullable: false),
                    DhcpServer = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    TftpServer = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    PvsServer = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    StreamServer = table.Column<string>(type: "character varying(45)", maxLength: 45, nullable: true),
                    LastSequence = table.Column<long>(type: "bigint", nullable: false),
                    UpdatedAt = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Sessions", x => new { x.Id, x.StartedAt });
                    table.ForeignKey(
                        name: "FK_Sessions_Devices_DeviceId",
                        column: x => x.DeviceId,
                        principalTable: "Devices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                })
                .Annotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.InsertData(
                table: "DurationRollupCutoff",
                columns: new[] { "Id", "RolledUpTo" },
                values: new object[] { 1, new DateTime(1970, 1, 1, 0, 0, 0, 0, DateTimeKind.Utc) });

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_SessionId",
                table: "Alerts",
                column: "SessionId");

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_SiteId_State",
                table: "Alerts",
                columns: new[] { "SiteId", "State" });

            migrationBuilder.CreateIndex(
                name: "IX_Alerts_State_Kind",
                table: "Alerts",
                columns: new[] { "State", "Kind" });

            migrationBuilder.CreateIndex(
                name: "IX_Collectors_KeyHash",
                table: "Collectors",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Collectors_SiteId_Name",
                table: "Collectors",
                columns: new[] { "SiteId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Devices_HostName",
                table: "Devices",
                column: "HostName");

            migrationBuilder.CreateIndex(
                name: "IX_Devices_Mac",
                table: "Devices",
                column: "Mac",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Devices_SiteId",
                table: "Devices",
                column: "SiteId");

            migrationBuilder.CreateIndex(
                name: "IX_Events_ReceivedAt",
                table: "Events",
                column: "ReceivedAt")
                .Annotation("Npgsql:IndexMethod", "brin");

            migrationBuilder.CreateIndex(
                name: "IX_Events_SessionId_Timestamp",
                table: "Events",
                columns: new[] { "SessionId", "Timestamp" });

            migrationBuilder.CreateIndex(
                name: "IX_EvidenceClips_CreatedAt",
                table: "EvidenceClips",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_EvidenceClips_SessionId_CreatedAt",
                table: "EvidenceClips",
                columns: new[] { "SessionId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_EvidenceRequests_SessionId_RequestedAt",
                table: "EvidenceRequests",
                columns: new[] { "SessionId", "RequestedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_EvidenceRequests_Unsent",
                table: "EvidenceRequests",
                column: "CollectorId",
                filter: "\"SentAt\" IS NULL");

            migrationBuilder.CreateIndex(
                name: "IX_SessionPhases_Phase_SessionStartedAt_SiteId",
                table: "SessionPhases",
                columns: new[] { "Phase", "SessionStartedAt", "SiteId" });

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_DeviceId_StartedAt",
                table: "Sessions",
                columns: new[] { "DeviceId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_NotBooted",
                table: "Sessions",
                column: "Outcome",
                filter: "\"Outcome\" <> 1");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_StartedAt_SiteId",
                table: "Sessions",
                columns: new[] { "StartedAt", "SiteId" });

            migrationBuilder.CreateIndex(
                name: "IX_Sites_Name",
                table: "Sites",
                column: "Name",
                unique: true);

            // Hand-written: the partitioned history tables (see PostgresSchema).
            PostgresSchema.Up(migrationBuilder);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            PostgresSchema.Down(migrationBuilder);

            migrationBuilder.DropTable(
                name: "AlertDevices");

            migrationBuilder.DropTable(
                name: "CollectorInstances");

            migrationBuilder.DropTable(
                name: "Collectors");

            migrationBuilder.DropTable(
                name: "DurationHistogram");

            migrationBuilder.DropTable(
                name: "DurationRollupCutoff");

            migrationBuilder.DropTable(
                name: "DurationRollupDay");

            migrationBuilder.DropTable(
                name: "DurationRollupHour");

            migrationBuilder.DropTable(
                name: "Events");

            migrationBuilder.DropTable(
                name: "EvidenceClips");

            migrationBuilder.DropTable(
                name: "EvidenceRequests");

            migrationBuilder.DropTable(
                name: "SessionPhases");

            migrationBuilder.DropTable(
                name: "Sessions");

            migrationBuilder.DropTable(
                name: "Alerts");

            migrationBuilder.DropTable(
                name: "Devices");

            migrationBuilder.DropTable(
                name: "Sites");
        }
    }
}
