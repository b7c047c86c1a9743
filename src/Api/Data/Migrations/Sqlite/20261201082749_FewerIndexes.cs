using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class FewerIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Sessions_SiteId_StartedAt",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_Sessions_StartedAt",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_SessionPhases_SessionStartedAt",
                table: "SessionPhases");

            migrationBuilder.DropIndex(
                name: "IX_SessionPhases_SiteId_SessionStartedAt",
                table: "SessionPhases");

            migrationBuilder.DropIndex(
                name: "IX_Devices_Unfinished",
                table: "Devices");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_StartedAt_SiteId",
                table: "Sessions",
                columns: new[] { "StartedAt", "SiteId" });

            migrationBuilder.CreateIndex(
                name: "IX_SessionPhases_Phase_SessionStartedAt_SiteId",
                table: "SessionPhases",
                columns: new[] { "Phase", "SessionStartedAt", "SiteId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Sessions_StartedAt_SiteId",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_SessionPhases_Phase_SessionStartedAt_SiteId",
                table: "SessionPhases");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_SiteId_StartedAt",
                table: "Sessions",
                columns: new[] { "SiteId", "StartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_StartedAt",
                table: "Sessions",
                column: "StartedAt");

            migrationBuilder.CreateIndex(
                name: "IX_SessionPhases_SessionStartedAt",
                table: "SessionPhases",
                column: "SessionStartedAt");

            migrationBuilder.CreateIndex(
                name: "IX_SessionPhases_SiteId_SessionStartedAt",
                table: "SessionPhases",
                columns: new[] { "SiteId", "SessionStartedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Devices_Unfinished",
                table: "Devices",
                column: "SiteId",
                filter: "\"CurrentOutcome\" IN (0, 3)");
        }
    }
}
