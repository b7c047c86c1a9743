using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Sqlite
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
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CollectorId = table.Column<int>(type: "INTEGER", nullable: false),
                    SiteId = table.Column<int>(type: "INTEGER", nullable: false),
                    SessionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Mac = table.Column<string>(type: "TEXT", maxLength: 17, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FirstFrameAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastFrameAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Frames = table.Column<int>(type: "INTEGER", nullable: false),
                    Bytes = table.Column<int>(type: "INTEGER", nullable: false),
                    Data = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_EvidenceClips", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "EvidenceRequests",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CollectorId = table.Column<int>(type: "INTEGER", nullable: false),
                    SessionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Mac = table.Column<string>(type: "TEXT", maxLength: 17, nullable: false),
                    RequestedAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    SentAt = table.Column<DateTime>(type: "TEXT", nullable: true)
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
