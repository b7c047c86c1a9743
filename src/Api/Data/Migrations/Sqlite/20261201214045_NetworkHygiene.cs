using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class NetworkHygiene : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "DeviceCount",
                table: "Alerts",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "Finding",
                table: "Alerts",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Hint",
                table: "Alerts",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "LastSeenAt",
                table: "Alerts",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Server",
                table: "Alerts",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "AlertDevices",
                columns: table => new
                {
                    AlertId = table.Column<long>(type: "INTEGER", nullable: false),
                    Mac = table.Column<string>(type: "TEXT", maxLength: 17, nullable: false)
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "AlertDevices");

            migrationBuilder.DropColumn(
                name: "DeviceCount",
                table: "Alerts");

            migrationBuilder.DropColumn(
                name: "Finding",
                table: "Alerts");

            migrationBuilder.DropColumn(
                name: "Hint",
                table: "Alerts");

            migrationBuilder.DropColumn(
                name: "LastSeenAt",
                table: "Alerts");

            migrationBuilder.DropColumn(
                name: "Server",
                table: "Alerts");
        }
    }
}
