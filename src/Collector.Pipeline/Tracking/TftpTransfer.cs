namespace PvsFleet.Collector.Tracking;

/// <summary>
/// The state of one TFTP read on a device's client port. Fixed-size, so a session's memory does not grow with
/// the number of blocks: only the newest block, the last acknowledgement and the final block are kept.
/// </summary>
internal struct TftpTransfer
{
    /// <summary>RFC 1350's block size when no OACK negotiates another.</summary>
    public const int DefaultBlockSize = 512;

    public ushort ClientPort;
    public ushort ServerPort;
    public uint ServerAddress;
    public int BlockSize;
    public int WindowSize;
    public long? TransferSize;

    /// <summary>Blocks received so far, counted past the 16-bit wrap of block numbers.</summary>
    public long BlocksReceived;
    public ushort HighestBlock;
    public int LastAcknowledged;
    public int FinalBlock;
    public bool Active;
    public bool Answered;

    public static TftpTransfer Start(ushort clientPort, uint serverAddress) => new()
    {
        ClientPort = clientPort,
        ServerAddress = serverAddress,
        BlockSize = DefaultBlockSize,
        WindowSize = 1,
        LastAcknowledged = -1,
        FinalBlock = -1,
        Active = true,
    };

    public readonly bool Matches(ushort clientPort) => Active && clientPort == ClientPort;

    /// <summary>
    /// Records a DATA block. Returns false for a retransmit: a block number not newer than the highest seen.
    /// Block numbers wrap at 65536, so "newer" means ahead by less than half the number space.
    /// </summary>
    public bool AcceptData(ushort block, int length)
    {
        var ahead = (ushort)(block - HighestBlock);
        if (ahead == 0 || ahead >= 0x8000)
        {
            return false;
        }

        HighestBlock = block;
        BlocksReceived += ahead;
        if (length < BlockSize)
        {
            FinalBlock = block;
        }

        return true;
    }

    /// <summary>Records the client's ACK. Returns false when it repeats the previous ACK (a retransmit).</summary>
    public bool AcceptAck(ushort block)
    {
        if (block == LastAcknowledged)
        {
            return false;
        }

        LastAcknowledged = block;
        return true;
    }

    public readonly bool IsComplete => FinalBlock >= 0 && LastAcknowledged == FinalBlock;
}
