using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Postgres
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

            migrationBuilder.AlterTable(
                name: "Sessions")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 80);

            migrationBuilder.AlterTable(
                name: "SessionPhases")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 80);

            migrationBuilder.AlterTable(
                name: "Devices")
                .Annotation("Npgsql:StorageParameter:fillfactor", 70)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 80);

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

            migrationBuilder.AlterTable(
                name: "Sessions")
                .Annotation("Npgsql:StorageParameter:fillfactor", 80)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AlterTable(
                name: "SessionPhases")
                .Annotation("Npgsql:StorageParameter:fillfactor", 80)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

            migrationBuilder.AlterTable(
                name: "Devices")
                .Annotation("Npgsql:StorageParameter:fillfactor", 80)
                .OldAnnotation("Npgsql:StorageParameter:fillfactor", 70);

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
