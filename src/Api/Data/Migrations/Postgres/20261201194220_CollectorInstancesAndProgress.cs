using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Postgres
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
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

            migrationBuilder.AddColumn<DateTime>(
                name: "LastProgressAt",
                table: "Sessions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "Instance",
                table: "Events",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"));

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
