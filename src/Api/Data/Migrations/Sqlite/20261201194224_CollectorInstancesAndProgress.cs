using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CollectorInstancesAndProgress : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Events_CollectorId_Sequence",
                table: "Events");

            migrationBuilder.AddColumn<Guid>(
                name: "Instance",
                table: "Sessions",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<DateTime>(
                name: "LastProgressAt",
                table: "Sessions",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "Instance",
                table: "Events",
                type: "TEXT",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.CreateTable(
                name: "CollectorInstances",
                columns: table => new
                {
                    CollectorId = table.Column<int>(type: "INTEGER", nullable: false),
                    Instance = table.Column<Guid>(type: "TEXT", nullable: false),
                    FirstSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSeenAt = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSequence = table.Column<long>(type: "INTEGER", nullable: false),
                    Host = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Interface = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    Version = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    PacketsReceived = table.Column<long>(type: "INTEGER", nullable: false),
                    PacketsDropped = table.Column<long>(type: "INTEGER", nullable: false),
                    InterfaceDropped = table.Column<long>(type: "INTEGER", nullable: false),
                    ActiveSessions = table.Column<int>(type: "INTEGER", nullable: false),
                    SpooledEvents = table.Column<long>(type: "INTEGER", nullable: false),
                    RefusedEvents = table.Column<long>(type: "INTEGER", nullable: false),
                    RejectedEvents = table.Column<long>(type: "INTEGER", nullable: false),
                    CorruptSpoolLines = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CollectorInstances", x => new { x.CollectorId, x.Instance });
                });

            migrationBuilder.CreateIndex(
                name: "IX_Events_CollectorId_Instance_Sequence",
                table: "Events",
                columns: new[] { "CollectorId", "Instance", "Sequence" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CollectorInstances");

            migrationBuilder.DropIndex(
                name: "IX_Events_CollectorId_Instance_Sequence",
                table: "Events");

            migrationBuilder.DropColumn(
                name: "Instance",
                table: "Sessions");

            migrationBuilder.DropColumn(
                name: "LastProgressAt",
                table: "Sessions");

            migrationBuilder.DropColumn(
                name: "Instance",
                table: "Events");

            migrationBuilder.CreateIndex(
                name: "IX_Events_CollectorId_Sequence",
                table: "Events",
                columns: new[] { "CollectorId", "Sequence" },
                unique: true);
        }
    }
}
