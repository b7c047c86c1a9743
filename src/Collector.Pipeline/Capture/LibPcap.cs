using System.Runtime.InteropServices;

namespace PvsFleet.Collector.Capture;

/// <summary>The one libpcap call the live hot path makes itself (the rest goes through SharpPcap).</summary>
internal static partial class LibPcap
{
    /// <summary>Debian's libpcap0.8 package ships libpcap.so.0.8; other distributions name it libpcap.so.1.</summary>
    private const string Library = "libpcap.so.0.8";

    static LibPcap() => NativeLibrary.SetDllImportResolver(typeof(LibPcap).Assembly, Resolve);

    /// <summary><c>struct pcap_pkthdr</c> on 64-bit Linux: a <c>struct timeval</c>, then caplen and len.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PacketHeader
    {
        public long Seconds;
        public long Microseconds;
        public uint CapturedLength;
        public uint Length;
    }

    /// <summary>1: a frame; 0: none waiting (non-blocking mode); -1: an error; -2: no more frames (files only).</summary>
    [LibraryImport(Library, EntryPoint = "pcap_next_ex")]
    public static partial int NextEx(IntPtr pcap, out IntPtr header, out IntPtr data);

    /// <summary>
    /// On Linux a blocking <c>pcap_next_ex</c> may wait forever on a quiet wire (the ring's timeout only runs once a
    /// frame arrived), so the hot path reads non-blocking and waits in <see cref="WaitReadable"/> instead.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "pcap_setnonblock")]
    public static unsafe partial int SetNonBlocking(IntPtr pcap, int nonBlocking, byte* errorBuffer);

    [LibraryImport(Library, EntryPoint = "pcap_get_selectable_fd")]
    public static partial int SelectableDescriptor(IntPtr pcap);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollDescriptor
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport("libc", EntryPoint = "poll")]
    private static unsafe partial int Poll(PollDescriptor* descriptors, nuint count, int timeoutMilliseconds);

    /// <summary>Waits until the capture descriptor has frames, or the timeout passes.</summary>
    public static unsafe void WaitReadable(int descriptor, int timeoutMilliseconds)
    {
        const short PollIn = 1;
        var poll = new PollDescriptor { Descriptor = descriptor, Events = PollIn };
        _ = Poll(&poll, 1, timeoutMilliseconds);
    }

    private static IntPtr Resolve(string name, System.Reflection.Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library || !OperatingSystem.IsLinux())
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in new[] { "libpcap.so.0.8", "libpcap.so.1", "libpcap.so" })
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
