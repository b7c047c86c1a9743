using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class EvidenceClips : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "EvidenceClips");

            migrationBuilder.DropTable(
                name: "EvidenceRequests");
        }
    }
}
