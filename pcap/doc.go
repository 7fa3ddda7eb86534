// Package pcap reads and writes capture files (pcap and pcapng) and names
// the link types and per-packet metadata shared by every packet source.
//
// # Reading
//
// Reader takes classic pcap (microsecond, nanosecond and the "modified"
// a1b2cd34 variant, either byte order) and pcapng (any number of sections,
// each with its own byte order and interfaces, link types and timestamp
// resolutions; enhanced, simple and obsolete packet blocks) from any
// io.Reader, reading forward only; gzip and zstd files are decompressed
// on the fly. A damaged file gives the packets before the damage, then a
// *FormatError naming the offset of the bad header, record or block.
// Length fields are held to libpcap's limits, and buffers grow only with
// data that arrives.
//
// Each packet's CaptureInfo names its interface and link type (a filter
// is compiled per link type for files that mix them; Reader.Interfaces
// describes the current section's interfaces) and carries pcapng's
// direction, epb_flags and comments. Reader.Section and Reader.Stats give
// the section header's options and the interface statistics read.
//
// # Writing
//
// Writer writes classic pcap and NgWriter pcapng (a section header with
// hardware, OS and application; an interface description per interface
// with name, description, filter, OS, snap length and resolution; packets
// with direction and comments; interface statistics). Both hand the
// underlying writer whole records or blocks only, at most 64 KiB at a
// time, so a full disk leaves a readable file (the torn block is cut off
// when the writer is an *os.File), and neither allocates per packet.
//
// A command writes to a PacketWriter:
//
//   - CreateFile (or NewPacketWriter for standard output) with
//     WriterOptions: Format from --format or FormatFromName(-w),
//     Compression from CompressionFromName(-w), the Interfaces captured
//     (their Filter holding the expression), FlushEachPacket for -U, and
//     Stats returning CaptureStats of each interface for pcapng files.
//     The headers are written at once, so "-w - | tshark -r -" starts
//     before the first packet.
//   - NewRotator for -C, -G and -W, naming files as tcpdump does (Strftime
//     for -G patterns), with OnRotate running -z's command on each file a
//     rotation closes. WritePacket returns ErrFileLimit when -G with -W
//     has written its files: tcpdump then exits with status 0.
//   - To copy pcapng to pcapng, create the writer with the Reader's
//     Interfaces and Section and pass each packet through an InterfaceMap,
//     which adds the interfaces of later sections.
//
// Without FlushEachPacket, a process killed with SIGKILL loses the packets
// still buffered (under 64 KiB) and never leaves a torn one except where
// the kernel cuts a write short; with it, every packet whose WritePacket
// returned is in the file. Compressed files get the same flushing, but a
// cut compressed stream reads only up to its last complete block.
//
// Live sources fill CaptureInfo.Direction and Flags from the packet type
// Linux reports (LinuxPacketDirection).
//
// It never touches the kernel: everything here is computed from bytes.
package pcap
