using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class HotUpdates : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Sessions_Outcome_Phase",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_Devices_SiteId_CurrentPhase_CurrentOutcome",
                table: "Devices");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_NotBooted",
                table: "Sessions",
                column: "Outcome",
                filter: "\"Outcome\" <> 1");

            migrationBuilder.CreateIndex(
                name: "IX_Devices_SiteId",
                table: "Devices",
                column: "SiteId");

            migrationBuilder.CreateIndex(
                name: "IX_Devices_Unfinished",
                table: "Devices",
                column: "SiteId",
                filter: "\"CurrentOutcome\" IN (0, 3)");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Sessions_NotBooted",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_Devices_SiteId",
                table: "Devices");

            migrationBuilder.DropIndex(
                name: "IX_Devices_Unfinished",
                table: "Devices");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_Outcome_Phase",
                table: "Sessions",
                columns: new[] { "Outcome", "Phase" });

            migrationBuilder.CreateIndex(
                name: "IX_Devices_SiteId_CurrentPhase_CurrentOutcome",
                table: "Devices",
                columns: new[] { "SiteId", "CurrentPhase", "CurrentOutcome" });
        }
    }
}
