using System.Diagnostics;
using PvsFleet.Collector.Analysis;
using PvsFleet.Collector.Simulation;
using PvsFleet.Contracts;
using SharpPcap;
using SharpPcap.LibPcap;

namespace PvsFleet.Collector.Tests.Simulation;

public sealed class BootStormSimulatorTests : IClassFixture<SimulationOutput>
{
    private readonly SimulationOutput output;

    public BootStormSimulatorTests(SimulationOutput output) => this.output = output;

    [Fact]
    public void Storm_is_written_as_a_time_ordered_capture_libpcap_reads_to_the_last_frame()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("ordered"));

        using var device = new CaptureFileReaderDevice(result.CapturePath);
        device.Open();
        long frames = 0, previous = long.MinValue, first = 0, last = 0;
        while (device.GetNextPacket(out var capture) == GetPacketStatus.PacketRead)
        {
            var raw = capture.GetPacket();
            var micros = (long)raw.Timeval.Seconds * 1_000_000 + (long)raw.Timeval.MicroSeconds;
            Assert.True(micros >= previous, $"frame {frames} goes back in time");
            Assert.Equal(raw.PacketLength, raw.Data.Length);
            if (frames == 0)
                first = micros;
            previous = last = micros;
            frames++;
        }

        Assert.Equal(result.Packets, frames);
        Assert.Equal(result.Truth.Packets, frames);
        Assert.Equal(0, result.Truth.Malformed);
        Assert.Equal(first, ToMicros(result.Truth.CaptureStart!.Value));
        Assert.Equal(last, ToMicros(result.Truth.CaptureEnd!.Value));
    }

    [Fact]
    public void Same_seed_gives_identical_capture_and_truth_bytes()
    {
        var first = BootStormSimulator.Run(output.SmallStorm("seed-a", devices: 40, seed: 3));
        var second = BootStormSimulator.Run(output.SmallStorm("seed-b", devices: 40, seed: 3));
        var other = BootStormSimulator.Run(output.SmallStorm("seed-c", devices: 40, seed: 4));

        Assert.Equal(File.ReadAllBytes(first.CapturePath), File.ReadAllBytes(second.CapturePath));
        Assert.Equal(File.ReadAllText(first.TruthPath), File.ReadAllText(second.TruthPath));
        Assert.NotEqual(File.ReadAllBytes(first.CapturePath), File.ReadAllBytes(other.CapturePath));
    }

    [Fact]
    public void Truth_file_sits_beside_the_capture_and_round_trips_through_ReportJson()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("beside", devices: 20));

        Assert.Equal(Path.Combine(output.Folder, "beside.truth.json"), result.TruthPath);
        var parsed = ReportJson.Deserialize(File.ReadAllText(result.TruthPath));
        Assert.Equal(result.Truth.Devices.Count, parsed.Devices.Count);
        Assert.Equal(result.Truth.Packets, parsed.Packets);
        Assert.Equal(ReportJson.Serialize(result.Truth), ReportJson.Serialize(parsed));
    }

    [Fact]
    public void Truth_has_every_device_sorted_with_contiguous_phases_in_order()
    {
        var options = output.SmallStorm("shape");
        var truth = BootStormSimulator.Run(options).Truth;

        Assert.Equal(options.Devices, truth.Devices.Count);
        Assert.Equal(truth.Devices.Select(d => d.Mac).Order(StringComparer.Ordinal), truth.Devices.Select(d => d.Mac));
        Assert.Equal(options.Devices, truth.Devices.Select(d => d.Mac).Distinct().Count());
        foreach (var device in truth.Devices)
        {
            Assert.Matches("^52:54:00(:[0-9a-f]{2}){3}$", device.Mac);
            Assert.NotEmpty(device.Sessions);
            Assert.Equal(device.Sessions.OrderBy(s => s.Start), device.Sessions);
            foreach (var session in device.Sessions)
            {
                Assert.Equal(BootPhase.IpAcquisition, session.Phases[0].Name);
                Assert.Equal(session.Start, session.Phases[0].Start);
                Assert.Equal(session.Phase, session.Phases[^1].Name);
                Assert.Equal(session.End, session.Phases[^1].End);
                for (var i = 1; i < session.Phases.Count; i++)
                {
                    Assert.Equal(session.Phases[i - 1].Name + 1, session.Phases[i].Name);
                    Assert.Equal(session.Phases[i - 1].End, session.Phases[i].Start);
                    Assert.True(session.Phases[i].Start >= session.Phases[i - 1].Start);
                }

                Assert.True(session.Phases.All(p => p.Retries >= 0));
                Assert.True(session.End is null || session.End >= session.Start);
                Assert.True(session.End is null || session.End <= truth.CaptureEnd);
                Assert.Equal(session.Outcome is BootOutcome.Stuck or BootOutcome.InProgress, session.End is null);
            }
        }
    }

    [Fact]
    public void Every_injected_failure_kind_shows_up_with_the_verdict_it_should_cause()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("failures"));
        var devices = result.Truth.Devices.ToDictionary(d => d.Mac);
        var injected = result.Injected.ToLookup(i => i.Failure, i => devices[i.Mac]);

        Assert.All(Enum.GetValues<InjectedFailure>(), kind => Assert.NotEmpty(injected[kind]));
        Assert.Equal((int)Math.Round(70 * 0.2), result.Injected.Count(i => i.Failure != InjectedFailure.None));

        foreach (var device in injected[InjectedFailure.None])
            AssertSingle(device, BootOutcome.Booted, BootPhase.BniStack);
        foreach (var device in injected[InjectedFailure.NoDhcpOffer])
        {
            var session = AssertSingle(device, BootOutcome.Stuck, BootPhase.IpAcquisition);
            Assert.Equal(4, session.Phases[0].Retries);
            Assert.Null(session.Ip);
        }

        foreach (var device in injected[InjectedFailure.BootstrapNotFound])
        {
            var session = AssertSingle(device, BootOutcome.Failed, BootPhase.BootstrapDownload);
            Assert.Equal(BootIssueKind.TftpError, Assert.Single(session.Issues).Kind);
            Assert.Equal(session.End, session.Issues[0].At);
        }

        foreach (var device in injected[InjectedFailure.TftpTimeout])
            Assert.Equal(4, AssertSingle(device, BootOutcome.Stuck, BootPhase.BootstrapDownload).Phases[^1].Retries);
        foreach (var device in injected[InjectedFailure.LogonTimeout])
            Assert.Equal(4, AssertSingle(device, BootOutcome.Stuck, BootPhase.PvsLogon).Phases[^1].Retries);
        foreach (var device in injected[InjectedFailure.SingleReadStall])
            Assert.Equal(4, AssertSingle(device, BootOutcome.Stuck, BootPhase.SingleReadMode).Phases[^1].Retries);
        foreach (var device in injected[InjectedFailure.RetransmitStorm])
        {
            var session = AssertSingle(device, BootOutcome.Booted, BootPhase.BniStack);
            Assert.True(session.Phases[^1].Retries > 0, "a storm device retransmits in BNIStack");
        }

        foreach (var device in injected[InjectedFailure.ProxyUnanswered])
        {
            var session = AssertSingle(device, BootOutcome.Stuck, BootPhase.IpAcquisition);
            Assert.Equal(3, session.Phases[0].Retries);
            Assert.NotNull(session.Ip);
        }

        foreach (var device in injected[InjectedFailure.BootLoop])
        {
            Assert.Equal(3, device.Sessions.Count);
            Assert.Equal([1, 2, 0], device.Sessions.Select(s => s.LoopCount));
            Assert.All(device.Sessions.Take(2), s => Assert.Equal((BootOutcome.Failed, BootPhase.SingleReadMode, BootIssueKind.BootLoop), (s.Outcome, s.Phase, Assert.Single(s.Issues).Kind)));
            Assert.Equal(BootOutcome.Booted, device.Sessions[2].Outcome);
        }

        foreach (var device in injected[InjectedFailure.PxeRestart])
        {
            Assert.Equal(2, device.Sessions.Count);
            var (restarted, rebooted) = (device.Sessions[0], device.Sessions[1]);
            Assert.Equal(BootOutcome.Failed, restarted.Outcome);
            Assert.Equal(BootPhase.PvsLogon, restarted.Phase);
            Assert.Equal(BootIssueKind.PxeRestarted, Assert.Single(restarted.Issues).Kind);
            Assert.Equal(rebooted.Start, restarted.End);
            Assert.Equal(BootOutcome.Booted, rebooted.Outcome);
        }
    }

    [Fact]
    public void Outcome_counts_add_up_to_the_sessions_in_the_truth()
    {
        var result = BootStormSimulator.Run(output.SmallStorm("counts", devices: 140, seed: 11));
        var sessions = result.Truth.Devices.SelectMany(d => d.Sessions).ToArray();
        var byFailure = result.Injected.GroupBy(i => i.Failure).ToDictionary(g => g.Key, g => g.Count());
        int Count(InjectedFailure kind) => byFailure.GetValueOrDefault(kind);

        Assert.Equal(result.Truth.Devices.Count + Count(InjectedFailure.PxeRestart) + (2 * Count(InjectedFailure.BootLoop)), sessions.Length);
        Assert.Equal(Count(InjectedFailure.None) + Count(InjectedFailure.RetransmitStorm) + Count(InjectedFailure.PxeRestart) + Count(InjectedFailure.BootLoop),
            sessions.Count(s => s.Outcome == BootOutcome.Booted));
        Assert.Equal(Count(InjectedFailure.BootstrapNotFound) + Count(InjectedFailure.PxeRestart) + (2 * Count(InjectedFailure.BootLoop)),
            sessions.Count(s => s.Outcome == BootOutcome.Failed));
        Assert.Equal(Count(InjectedFailure.NoDhcpOffer) + Count(InjectedFailure.TftpTimeout) + Count(InjectedFailure.LogonTimeout)
            + Count(InjectedFailure.SingleReadStall) + Count(InjectedFailure.ProxyUnanswered), sessions.Count(s => s.Outcome == BootOutcome.Stuck));
        Assert.DoesNotContain(sessions, s => s.Outcome == BootOutcome.InProgress);
    }

    [Fact]
    public void Capture_runs_past_every_stuck_threshold_by_five_seconds()
    {
        var options = output.SmallStorm("thresholds");
        var truth = BootStormSimulator.Run(options).Truth;
        foreach (var session in truth.Devices.SelectMany(d => d.Sessions).Where(s => s.Outcome == BootOutcome.Stuck))
        {
            var stuck = Assert.Single(session.Issues);
            Assert.Equal(BootIssueKind.Stuck, stuck.Kind);
            var threshold = options.Tracker.StuckThreshold(session.Phase);
            Assert.True(truth.CaptureEnd - (stuck.At - threshold) >= threshold + TimeSpan.FromSeconds(5));
        }
    }

    [Fact]
    public void Booted_devices_carry_address_firmware_boot_file_and_host_name()
    {
        var truth = BootStormSimulator.Run(output.SmallStorm("fields", devices: 30)).Truth;
        var booted = truth.Devices.SelectMany(d => d.Sessions).Where(s => s.Outcome == BootOutcome.Booted).ToArray();

        Assert.NotEmpty(booted);
        Assert.All(booted, session =>
        {
            Assert.StartsWith("10.20.", session.Ip, StringComparison.Ordinal);
            Assert.Equal(session.Firmware == Firmware.Uefi ? "pvsnbpx64.efi" : "ARDBP32.bin", session.BootFile);
            Assert.StartsWith("VDA-", session.HostName, StringComparison.Ordinal);
            Assert.Equal(5, session.Phases.Count);
        });
        Assert.Contains(booted, s => s.Firmware == Firmware.Bios);
        Assert.Contains(booted, s => s.Firmware == Firmware.Uefi);
    }

    [Fact]
    public void Small_storm_generates_in_reasonable_time()
    {
        var stopwatch = Stopwatch.StartNew();
        var result = BootStormSimulator.Run(output.SmallStorm("timed", devices: 300) with { SingleReadIos = 20, BniStackIos = 40 });
        stopwatch.Stop();

        Assert.True(result.Packets > 100_000, $"{result.Packets} packets");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
    }

    private static SessionReport AssertSingle(DeviceReport device, BootOutcome outcome, BootPhase phase)
    {
        var session = Assert.Single(device.Sessions);
        Assert.Equal(outcome, session.Outcome);
        Assert.Equal(phase, session.Phase);
        return session;
    }

    private static long ToMicros(DateTime time) => (time.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;
}
