using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DurationHistogram : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
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

            // Sessions stored before this migration: the ingest keeps the histogram from here on.
            migrationBuilder.Sql(DurationBins.RebuildSql);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DurationHistogram");
        }
    }
}
