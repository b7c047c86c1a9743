using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PvsFleet.Api.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LeanIngest : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Events_Collectors_CollectorId",
                table: "Events");

            migrationBuilder.DropForeignKey(
                name: "FK_SessionPhases_Sessions_SessionId",
                table: "SessionPhases");

            migrationBuilder.DropForeignKey(
                name: "FK_Sessions_Collectors_CollectorId",
                table: "Sessions");

            migrationBuilder.DropForeignKey(
                name: "FK_Sessions_Sites_SiteId",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_Sessions_CollectorId",
                table: "Sessions");

            migrationBuilder.DropIndex(
                name: "IX_Events_ReceivedAt",
                table: "Events");

            migrationBuilder.CreateIndex(
                name: "IX_Events_ReceivedAt",
                table: "Events",
                column: "ReceivedAt")
                .Annotation("Npgsql:IndexMethod", "brin");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Events_ReceivedAt",
                table: "Events");

            migrationBuilder.CreateIndex(
                name: "IX_Sessions_CollectorId",
                table: "Sessions",
                column: "CollectorId");

            migrationBuilder.CreateIndex(
                name: "IX_Events_ReceivedAt",
                table: "Events",
                column: "ReceivedAt");

            migrationBuilder.AddForeignKey(
                name: "FK_Events_Collectors_CollectorId",
                table: "Events",
                column: "CollectorId",
                principalTable: "Collectors",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_SessionPhases_Sessions_SessionId",
                table: "SessionPhases",
                column: "SessionId",
                principalTable: "Sessions",
                principalColumn: "Id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "FK_Sessions_Collectors_CollectorId",
                table: "Sessions",
                column: "CollectorId",
                principalTable: "Collectors",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "FK_Sessions_Sites_SiteId",
                table: "Sessions",
                column: "SiteId",
                principalTable: "Sites",
                principalColumn: "Id",
                onDelete: ReferentialAction.Restrict);
        }
    }
}
