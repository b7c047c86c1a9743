using System.CommandLine;
using PvsFleet.Collector.Capture;

namespace PvsFleet.Collector.Cli;

/// <summary><c>interfaces</c>: the capture devices libpcap sees, to pick the mirror port from.</summary>
internal static class InterfacesCommand
{
    public static Command Create()
    {
        var command = new Command("interfaces", "List the capture interfaces");
        command.SetAction(_ =>
        {
            try
            {
                foreach (var (name, description, addresses) in LiveCapture.List())
                {
                    Console.WriteLine($"{name,-16} {string.Join(" ", addresses),-32} {description}");
                }

                return 0;
            }
            catch (CaptureException e)
            {
                Console.Error.WriteLine($"interfaces: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
