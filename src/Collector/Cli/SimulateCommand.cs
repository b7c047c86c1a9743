using System.CommandLine;
using PvsFleet.Collector.Decoding;
using PvsFleet.Collector.Simulation;

namespace PvsFleet.Collector.Cli;

/// <summary><c>simulate --devices N --out FILE.pcapng [--seed S]</c>: a boot storm with its ground truth beside it.</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var devices = new Option<int>("--devices") { Description = "Number of target devices that boot", Required = true };
        var output = new Option<string>("--out") { Description = "The pcapng file to write; the truth goes to FILE.truth.json", Required = true };
        var seed = new Option<int>("--seed") { Description = "Same seed, same storm", DefaultValueFactory = _ => 1 };
        var failures = new Option<double>("--failure-share") { Description = "Share of devices with an injected failure (0–1)", DefaultValueFactory = _ => 0.2 };
        var singleRead = new Option<int>("--single-read-ios") { Description = "Read I/Os per device through UNDI", DefaultValueFactory = _ => 40 };
        var bniStack = new Option<int>("--bnistack-ios") { Description = "Read I/Os per device through BNIStack", DefaultValueFactory = _ => 120 };
        var stagger = new Option<double>("--stagger") { Description = "Seconds over which devices power on", DefaultValueFactory = _ => 60 };
        var port69 = new Option<double>("--port69-share") { Description = "Share of devices whose TFTP server answers from port 69 (0–1)", DefaultValueFactory = _ => 0.1 };
        var loginPort = new Option<double>("--login-port-streaming-share") { Description = "Share of devices that stream on the login port 6910 (0–1)", DefaultValueFactory = _ => 0.25 };
        var joined = new Option<double>("--joined-share") { Description = "Share of healthy devices already booting when the recording starts (0–1)", DefaultValueFactory = _ => 0 };
        var copies = new Option<int>("--copies") { Description = "Write every frame N more times, microseconds apart, as a capture on several interfaces at once does", DefaultValueFactory = _ => 0 };
        var macOffset = new Option<int>("--mac-offset") { Description = "Device n gets the MAC 52:54:00 plus offset + n + 1 (storms of several collectors side by side)", DefaultValueFactory = _ => 0 };
        var linkType = new Option<string>("--link-type") { Description = "ethernet, or sll2 (Linux cooked, as tcpdump -i any writes)", DefaultValueFactory = _ => "ethernet" };
        linkType.AcceptOnlyFromAmong("ethernet", "sll2");
        var command = new Command("simulate", "Write a realistic PVS boot storm as pcapng, with its ground truth")
        {
            devices, output, seed, failures, singleRead, bniStack, stagger, port69, loginPort, joined, copies, macOffset, linkType,
        };
        command.SetAction(parse =>
        {
            var options = new SimulationOptions
            {
                Devices = parse.GetValue(devices),
                OutputPath = parse.GetValue(output)!,
                Seed = parse.GetValue(seed),
                FailureShare = parse.GetValue(failures),
                SingleReadIos = parse.GetValue(singleRead),
                BniStackIos = parse.GetValue(bniStack),
                StaggerSeconds = parse.GetValue(stagger),
                Port69TftpShare = parse.GetValue(port69),
                LoginPortStreamingShare = parse.GetValue(loginPort),
                JoinedShare = parse.GetValue(joined),
                Copies = parse.GetValue(copies),
                MacOffset = parse.GetValue(macOffset),
                LinkType = parse.GetValue(linkType) == "sll2" ? LinkType.LinuxSll2 : LinkType.Ethernet,
            };
            try
            {
                var result = BootStormSimulator.Run(options, Console.Error);
                Console.Error.WriteLine($"simulate: {result}");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"simulate: {e.Message.ReplaceLineEndings(" ")}");
                return 2;
            }
        });
        return command;
    }
}
