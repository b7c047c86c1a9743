using System.Diagnostics;

namespace PvsFleet.Collector.Tests.Support;

/// <summary>
/// Records a real PXE-like boot the way an admin does, with <c>tcpdump -i any</c>, on a network of the test's own:
/// two network namespaces joined by a veth pair. In the server's namespace the veth end is a port of a bridge that
/// holds the address, so <c>-i any</c> sees every frame twice (on the port and on the bridge), as on a real host.
/// Real sockets (python3) play a DHCP and TFTP exchange across the pair. Nothing leaves the machine. Needs root,
/// iproute2, tcpdump and python3.
/// </summary>
internal sealed class AnyInterfaceRecording : IDisposable
{
    public const string DeviceMac = "52:54:00:00:00:42";
    public const string DeviceIp = "10.77.0.1";
    public const string ServerIp = "10.77.0.2";

    private readonly string client;
    private readonly string server;

    private AnyInterfaceRecording(string id)
    {
        client = $"pvsfleet-c{id}";
        server = $"pvsfleet-s{id}";
        Folder = Path.Combine(Path.GetTempPath(), $"pvsfleet-any-{id}");
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>Builds the network, or says why it cannot (not root, no iproute2 or tcpdump).</summary>
    public static AnyInterfaceRecording? TryCreate(out string? whyNot)
    {
        whyNot = Run("tcpdump", "--version") is { } missing ? $"tcpdump is needed (apt-get install tcpdump): {missing}" : null;
        if (whyNot is not null)
        {
            return null;
        }

        var lab = new AnyInterfaceRecording(Guid.NewGuid().ToString("N")[..6]);
        string Ns(string ns, params string[] command) => Run("ip", ["netns", "exec", ns, .. command]) ?? "";
        whyNot = Run("ip", "netns", "add", lab.client)
            ?? Run("ip", "netns", "add", lab.server)
            ?? Run("ip", "link", "add", "pva", "netns", lab.client, "address", DeviceMac, "type", "veth", "peer", "name", "pvb", "netns", lab.server)
            ?? NullIfEmpty(Ns(lab.client, "ip", "addr", "add", $"{DeviceIp}/24", "dev", "pva")
                + Ns(lab.client, "ip", "link", "set", "pva", "up")
                + Ns(lab.client, "ip", "link", "set", "lo", "up")
                + Ns(lab.server, "ip", "link", "add", "pvbr", "type", "bridge")
                + Ns(lab.server, "ip", "link", "set", "pvb", "master", "pvbr")
                + Ns(lab.server, "ip", "addr", "add", $"{ServerIp}/24", "dev", "pvbr")
                + Ns(lab.server, "ip", "link", "set", "pvb", "up")
                + Ns(lab.server, "ip", "link", "set", "pvbr", "up")
                + Ns(lab.server, "ip", "link", "set", "lo", "up"));
        if (whyNot is null && !lab.WaitUntilConnected())
        {
            whyNot = $"{DeviceIp} cannot reach {ServerIp} across the veth pair and bridge";
        }

        if (whyNot is null)
        {
            return lab;
        }

        lab.Dispose();
        return null;
    }

    /// <summary>Records one boot with <c>tcpdump -i any</c> in the server's namespace; returns the capture file.</summary>
    /// <param name="tcpdumpLinkType">null for tcpdump's default (SLL2 with libpcap 1.10), or a name for <c>-y</c> (LINUX_SLL).</param>
    public string RecordBoot(string? tcpdumpLinkType)
    {
        // What is under test is reading the recording, not the namespace's network: on a loaded machine a fresh bridge
        // has lost a datagram of the exchange, so a short recording is made once more before it counts as a failure.
        try
        {
            return RecordBootOnce(tcpdumpLinkType);
        }
        catch (Xunit.Sdk.XunitException)
        {
            return RecordBootOnce(tcpdumpLinkType);
        }
    }

    private string RecordBootOnce(string? tcpdumpLinkType)
    {
        var capture = Path.Combine(Folder, $"boot-{tcpdumpLinkType ?? "default"}.pcap");
        File.Delete(capture);

        // Immediate mode: libpcap hands over each frame as it comes instead of a ring block per timeout, which an
        // interrupt right after the exchange would otherwise throw away ("22 received by filter, 0 captured").
        // Immediate mode's ring has one slot per frame of the snapshot length: at tcpdump's default 262,144 bytes its
        // 2 MB held 8 frames, and a loaded CI machine lost the rest ("8 captured, 14 dropped by kernel"). The
        // exchange's largest frame is 564 bytes, so 2,048 gives a thousand slots.
        string[] dumpArgs = ["netns", "exec", server, "tcpdump", "-i", "any", "--immediate-mode", "-s", "2048", "-U", "-n", "-Z", "root", "-w", capture,
            .. tcpdumpLinkType is null ? Array.Empty<string>() : ["-y", tcpdumpLinkType], "udp"];
        using var tcpdump = Start("ip", dumpArgs);
        try
        {
            // tcpdump says "listening on any" once its socket is bound: only then does the exchange start.
            var said = new List<string>();
            while (tcpdump.StandardError.ReadLine() is { } line)
            {
                said.Add(line);
                if (line.Contains("listening on any", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.True(said.Count > 0 && said[^1].Contains("listening on any", StringComparison.Ordinal), $"tcpdump did not start: {string.Join(" / ", said)}");
            PlayBoot();

            // A busy machine may let tcpdump fall behind the ring: wait until all the exchange's frames are written
            // (11 datagrams, each seen on the bridge port and on the bridge), or give it 20 s.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (CountRecords(capture) < ExpectedFrames && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
        finally
        {
            // SIGINT lets tcpdump flush and close the file.
            Run("kill", "-INT", tcpdump.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!tcpdump.WaitForExit(10_000))
            {
                tcpdump.Kill();
            }
        }

        var written = CountRecords(capture);
        Assert.True(written == ExpectedFrames, $"tcpdump wrote {written} of {ExpectedFrames} frames: {tcpdump.StandardError.ReadToEnd().ReplaceLineEndings(" ")}");
        return capture;
    }

    /// <summary>
    /// A new veth pair and bridge port take a moment to carry frames: until a UDP datagram makes it across, the
    /// first DISCOVER could be lost. Python's socket stands in for ping, which a minimal machine may lack.
    /// </summary>
    private bool WaitUntilConnected()
    {
        const string Probe = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[1], 0))
            s.settimeout(0.5)
            s.connect((sys.argv[2], 9))  # connected: the ICMP port-unreachable answer surfaces as an error
            for _ in range(40):
                s.send(b"probe")
                try:
                    s.recvfrom(100)
                except ConnectionRefusedError:
                    sys.exit(0)  # the server's stack answered (ICMP port unreachable): the path carries frames
                except socket.timeout:
                    pass
            sys.exit(1)
            """;
        var script = Path.Combine(Folder, "probe.py");
        File.WriteAllText(script, Probe);
        return Run("ip", "netns", "exec", client, "python3", script, DeviceIp, ServerIp) is null;
    }

    /// <summary>The server's namespace, where the bridge is: a capture on <c>any</c> there sees each frame twice.</summary>
    public string ServerNamespace => server;

    /// <summary>Plays the boot exchange across the pair with real sockets; returns once the last block is acknowledged.</summary>
    public void PlayBoot()
    {
        var script = Path.Combine(Folder, "boot.py");
        File.WriteAllText(script, BootScript);
        using var serverRole = Start("ip", "netns", "exec", server, "python3", script, "server", ServerIp, DeviceIp);
        Thread.Sleep(1000); // python's start, under load
        var clientError = Run("ip", "netns", "exec", client, "python3", script, "client", ServerIp, DeviceIp);
        var serverExited = serverRole.WaitForExit(15_000);
        Assert.True(clientError is null, $"{clientError}; server side: {(serverExited ? serverRole.StandardError.ReadToEnd() : "still running")}");
        Assert.True(serverExited, "the server side did not finish");
        Assert.True(serverRole.ExitCode == 0, serverRole.StandardError.ReadToEnd());
    }

    public void Dispose()
    {
        Run("ip", "netns", "del", client);
        Run("ip", "netns", "del", server);
        Directory.Delete(Folder, recursive: true);
    }

    /// <summary>
    /// The device: DISCOVER, REQUEST (PXEClient vendor class, BIOS architecture), then a TFTP read of ARDBP32.bin
    /// acknowledging each block. The server: OFFER and ACK with the address and boot file, then three DATA blocks
    /// (512, 512, 100 bytes) from a port of its own, each after the previous ACK.
    /// </summary>
    private const string BootScript = """
        import socket, struct, sys
        role, server_ip, device_ip = sys.argv[1], sys.argv[2], sys.argv[3]
        MAC = bytes.fromhex("525400000042")
        ip = socket.inet_aton

        def dhcp(op, xid, kind, yiaddr="0.0.0.0", options=b""):
            fixed = bytes([op, 1, 6, 0]) + struct.pack("!IHH", xid, 0, 0) + ip("0.0.0.0") + ip(yiaddr) \
                + ip(server_ip if op == 2 else "0.0.0.0") + ip("0.0.0.0") + MAC + bytes(10) + bytes(64) + bytes(128)
            return fixed + bytes([99, 130, 83, 99, 53, 1, kind]) + options + b"\xff"

        def option(code, value):
            return bytes([code, len(value)]) + value

        if role == "client":
            pxe = option(60, b"PXEClient:Arch:00000:UNDI:002001") + option(93, b"\x00\x00")
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.settimeout(5)
            sock.bind((device_ip, 68))
            sock.sendto(dhcp(1, 0x1234, 1, options=pxe), (server_ip, 67))
            sock.recvfrom(2048)
            sock.sendto(dhcp(1, 0x1234, 3, options=pxe + option(50, ip(device_ip))), (server_ip, 67))
            sock.recvfrom(2048)
            tftp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tftp.settimeout(5)
            tftp.bind((device_ip, 2070))
            tftp.sendto(b"\x00\x01ARDBP32.bin\x00octet\x00", (server_ip, 69))
            while True:
                data, peer = tftp.recvfrom(2048)
                opcode, block = struct.unpack("!HH", data[:4])
                tftp.sendto(struct.pack("!HH", 4, block), peer)
                if len(data) - 4 < 512:
                    break
        else:
            dhcp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            dhcp_sock.settimeout(10)
            dhcp_sock.bind(("0.0.0.0", 67))
            tftp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            tftp.settimeout(10)
            tftp.bind(("0.0.0.0", 69))
            served = option(54, ip(server_ip)) + option(51, struct.pack("!I", 3600)) + option(67, b"ARDBP32.bin")
            for reply in (2, 5):
                message, _ = dhcp_sock.recvfrom(2048)
                xid = struct.unpack("!I", message[4:8])[0]
                dhcp_sock.sendto(dhcp(2, xid, reply, device_ip, served), (device_ip, 68))
            _, client = tftp.recvfrom(2048)
            transfer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            transfer.settimeout(10)
            transfer.bind((server_ip, 0))
            for block, size in ((1, 512), (2, 512), (3, 100)):
                transfer.sendto(struct.pack("!HH", 3, block) + bytes([block]) * size, client)
                transfer.recvfrom(2048)
        """;

    /// <summary>DHCP DISCOVER, OFFER, REQUEST, ACK; TFTP RRQ and three DATA/ACK pairs: 11 datagrams, each captured twice.</summary>
    public const int ExpectedFrames = 22;

    /// <summary>Whole records in a pcap file that tcpdump may still be writing.</summary>
    private static int CountRecords(string pcap)
    {
        byte[] bytes;
        try
        {
            using var stream = new FileStream(pcap, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (IOException)
        {
            return 0;
        }

        var records = 0;
        for (var offset = 24; offset + 16 <= bytes.Length; records++)
        {
            var length = BitConverter.ToInt32(bytes, offset + 8);
            if (offset + 16 + length > bytes.Length)
            {
                break;
            }

            offset += 16 + length;
        }

        return records;
    }

    private static string? NullIfEmpty(string text) => text.Length == 0 ? null : text;

    private static Process Start(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    /// <summary>Null on success, else what went wrong in one line.</summary>
    private static string? Run(string program, params string[] args)
    {
        try
        {
            using var process = Start(program, args);
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            output.Wait();
            process.WaitForExit();
            return process.ExitCode == 0 ? null : $"{program} {string.Join(' ', args)}: {error.Trim()}";
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"{program}: {e.Message}";
        }
    }
}
