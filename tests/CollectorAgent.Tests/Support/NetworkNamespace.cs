using System.Diagnostics;

namespace PvsFleet.CollectorAgent.Tests.Support;

/// <summary>
/// A network namespace of the test's own with a veth pair: one end (<see cref="CaptureEnd"/>) stays in this
/// namespace for the collector, the other (<see cref="SenderEnd"/>) lives inside the new namespace and plays the
/// network. Nothing leaves the machine. Needs root (CAP_NET_ADMIN) and iproute2.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private NetworkNamespace(string name, string captureEnd, string senderEnd)
    {
        Name = name;
        CaptureEnd = captureEnd;
        SenderEnd = senderEnd;
    }

    public string Name { get; }
    public string CaptureEnd { get; }
    public string SenderEnd { get; }

    /// <summary>Creates the namespace, or says why it cannot.</summary>
    public static NetworkNamespace? TryCreate(out string? whyNot)
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        var name = $"pvsfleet-{id}";
        var namespaceCreated = false;
        whyNot = Run("ip", "netns", "add", name);
        namespaceCreated = whyNot is null;
        whyNot ??= Run("ip", "link", "add", $"pvc{id}", "type", "veth", "peer", "name", $"pvs{id}", "netns", name)
            ?? Run("ip", "link", "set", $"pvc{id}", "up")
            ?? Run("ip", "netns", "exec", name, "ip", "link", "set", $"pvs{id}", "up");
        if (whyNot is null)
        {
            return new NetworkNamespace(name, $"pvc{id}", $"pvs{id}");
        }

        if (namespaceCreated)
        {
            Run("ip", "netns", "del", name);
        }

        return null;
    }

    /// <summary>Sends every frame of a capture out of the namespace's end of the pair, through a raw socket.</summary>
    public void SendCapture(string capture)
    {
        var script = Path.Combine(Path.GetTempPath(), $"pvsfleet-send-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, """
            import socket, struct, sys
            data = open(sys.argv[2], "rb").read()
            order = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            sock.bind((sys.argv[1], 0))
            offset, sent = 24, 0
            while offset + 16 <= len(data):
                _, _, length, _ = struct.unpack(order + "IIII", data[offset:offset + 16])
                sock.send(data[offset + 16:offset + 16 + length])
                offset += 16 + length
                sent += 1
            print(sent)
            """);
        try
        {
            var error = Run("ip", "netns", "exec", Name, "python3", script, SenderEnd, capture);
            Assert.True(error is null, error);
        }
        finally
        {
            File.Delete(script);
        }
    }

    public void Dispose() => Run("ip", "netns", "del", Name);

    /// <summary>Null on success, else what went wrong in one line.</summary>
    private static string? Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"{program} {string.Join(' ', args)}: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{program}: {e.Message}";
        }
    }
}
