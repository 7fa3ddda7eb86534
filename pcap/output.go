package pcap

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// PacketWriter is where a capture's packets go: a pcap Writer, an
// NgWriter, a compressed or rotated file. Flush hands what is buffered to
// the file; Close ends the file (statistics, compression trailer) and
// closes what the PacketWriter opened itself.
type PacketWriter interface {
	WritePacket(ci CaptureInfo, data []byte) error
	Flush() error
	Close() error
}

// Every writer is a PacketWriter; those that can describe more interfaces
// later are InterfaceAdders.
var (
	_ PacketWriter   = (*Writer)(nil)
	_ InterfaceAdder = (*NgWriter)(nil)
	_ InterfaceAdder = (*fileWriter)(nil)
	_ InterfaceAdder = (*Rotator)(nil)
)

// Format is a capture file format.
type Format uint8

// Formats.
const (
	FormatPcap Format = iota
	FormatPcapng
)

func (f Format) String() string {
	if f == FormatPcapng {
		return "pcapng"
	}
	return "pcap"
}

// ParseFormat reads a format name: "pcap" or "pcapng".
func ParseFormat(name string) (Format, error) {
	switch name {
	case "pcap":
		return FormatPcap, nil
	case "pcapng":
		return FormatPcapng, nil
	}
	return 0, fmt.Errorf("pcap: unknown file format %q (want pcap or pcapng)", name)
}

// FormatFromName is the format a file name asks for: pcapng when it ends
// in ".pcapng" (or ".pcapng.gz", ".pcapng.zst"), classic pcap otherwise,
// as tcpdump writes.
func FormatFromName(name string) Format {
	for _, ext := range []string{".gz", ".zst"} {
		name = strings.TrimSuffix(name, ext)
	}
	if strings.HasSuffix(name, ".pcapng") {
		return FormatPcapng
	}
	return FormatPcap
}

// WriterOptions describes a capture file to write.
type WriterOptions struct {
	Format      Format
	Compression Compression
	// Interfaces the packets' InterfaceIndex refers to. A pcap file takes
	// the first one's link type and snap length, and nanosecond
	// timestamps when its TimestampResolution is 1e9 (microseconds
	// otherwise); it cannot mix link types. A pcapng file describes them
	// all (TimestampResolution 0: nanoseconds).
	Interfaces []Interface
	Section    Section // pcapng: the section header's options
	// Stats, for pcapng, gives each interface's statistics when a file
	// is closed: totals since the capture began.
	Stats func() []InterfaceStats
	// FlushEachPacket hands every packet to the file at once (tcpdump's
	// -U): a pipe reader sees it immediately and a killed process loses
	// nothing it wrote. Otherwise up to BufferSize bytes of whole packets
	// wait.
	FlushEachPacket bool
	// BufferSize is how many bytes of whole packets wait before they go
	// to the file; 0 means 64 KiB.
	BufferSize int
}

// fileFormatWriter is a Writer or an NgWriter.
type fileFormatWriter interface {
	PacketWriter
	Size() int64
}

// fileWriter writes one capture file, compressed or not, and flushes it
// as the options ask.
type fileWriter struct {
	packets    fileFormatWriter
	classic    *Writer    // packets, when it writes a pcap file
	compressor compressor // nil when not compressing
	file       io.Closer  // what Close closes; nil for a writer the caller owns
	flushEach  bool
	closed     bool
}

var errClosed = errors.New("pcap: writer closed")

// NewPacketWriter writes a capture file to w, compressed as asked, and
// writes its headers at once, so a reader of a pipe can start and a
// process killed before any packet leaves a valid empty file. Close ends
// the file but does not close w.
func NewPacketWriter(w io.Writer, opts WriterOptions) (PacketWriter, error) {
	fw, err := newFileWriter(w, opts)
	if err != nil {
		return nil, err
	}
	return fw, nil
}

// CreateFile creates (or truncates) the file at path and writes a capture
// file to it as NewPacketWriter does; Close closes the file.
func CreateFile(path string, opts WriterOptions) (PacketWriter, error) {
	return createFile(path, opts)
}

func createFile(path string, opts WriterOptions) (*fileWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	fw, err := newFileWriter(fastWriter(f), opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	fw.file = f
	return fw, nil
}

func newFileWriter(w io.Writer, opts WriterOptions) (*fileWriter, error) {
	if len(opts.Interfaces) == 0 {
		return nil, errors.New("pcap: no interfaces to describe")
	}
	fw := &fileWriter{flushEach: opts.FlushEachPacket}
	out := w
	if opts.Compression != CompressionNone {
		c, err := newCompressor(w, opts.Compression)
		if err != nil {
			return nil, err
		}
		fw.compressor, out = c, c
	}
	var err error
	switch opts.Format {
	case FormatPcapng:
		fw.packets, err = NewNgWriter(out, NgOptions{Section: opts.Section, Interfaces: opts.Interfaces, Stats: opts.Stats, BufferSize: opts.BufferSize})
	default:
		fw.classic, err = newClassicWriter(out, opts.Interfaces, opts.BufferSize)
		fw.packets = fw.classic
	}
	if err == nil {
		err = fw.Flush()
	}
	if err != nil {
		return nil, err
	}
	return fw, nil
}

// newClassicWriter writes the pcap file the interfaces allow.
func newClassicWriter(w io.Writer, interfaces []Interface, bufferSize int) (*Writer, error) {
	first := interfaces[0]
	for _, ifc := range interfaces[1:] {
		if ifc.LinkType != first.LinkType {
			return nil, fmt.Errorf("pcap: a pcap file has one link type, not %v and %v: write pcapng", first.LinkType, ifc.LinkType)
		}
	}
	return newWriter(w, FileHeader{LinkType: first.LinkType, Snaplen: first.Snaplen, Nanoseconds: first.TimestampResolution == 1_000_000_000}, bufferSize)
}

func (fw *fileWriter) WritePacket(ci CaptureInfo, data []byte) error {
	return fw.WritePacketInfo(&ci, data)
}

// WritePacketInfo is WritePacket taking the CaptureInfo by pointer, as
// Writer.WritePacketInfo.
func (fw *fileWriter) WritePacketInfo(ci *CaptureInfo, data []byte) error {
	if fw.closed {
		return errClosed
	}
	var err error
	if fw.classic != nil {
		err = fw.classic.WritePacketInfo(ci, data)
	} else {
		err = fw.packets.WritePacket(*ci, data)
	}
	if err != nil {
		return err
	}
	if fw.flushEach {
		return fw.Flush()
	}
	return nil
}

// Records is the classic pcap writer under fw, for a live capture that
// writes packets straight from its ring (capture.Source.WriteReady); nil
// when fw writes pcapng or flushes after every packet.
func (fw *fileWriter) Records() *Writer {
	if fw.flushEach || fw.closed {
		return nil
	}
	return fw.classic
}

func (fw *fileWriter) Flush() error {
	if fw.closed {
		return errClosed
	}
	if err := fw.packets.Flush(); err != nil {
		return err
	}
	if fw.compressor != nil {
		if err := fw.compressor.Flush(); err != nil {
			return fmt.Errorf("pcap: writing: %w", err)
		}
	}
	return nil
}

// Size is the size of the file so far, before compression.
func (fw *fileWriter) Size() int64 { return fw.packets.Size() }

func (fw *fileWriter) Close() error {
	if fw.closed {
		return errClosed
	}
	fw.closed = true
	err := fw.packets.Close()
	if fw.compressor != nil {
		if cerr := fw.compressor.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pcap: writing: %w", cerr)
		}
	}
	if fw.file != nil {
		if cerr := fw.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("pcap: closing: %w", cerr)
		}
	}
	return err
}

// InterfaceAdder is a writer that can describe more interfaces after it
// started, as copying a pcapng file whose later sections bring new ones
// needs. NgWriter, the writers of NewPacketWriter and CreateFile, and
// Rotator are InterfaceAdders.
type InterfaceAdder interface {
	PacketWriter
	AddInterface(ifc Interface) (int, error)
}

// AddInterface describes one more interface. A pcap file has no room for
// one: it takes only another interface of its own link type, whose
// packets then share index 0.
func (fw *fileWriter) AddInterface(ifc Interface) (int, error) {
	if fw.closed {
		return 0, errClosed
	}
	switch w := fw.packets.(type) {
	case *NgWriter:
		return w.AddInterface(ifc)
	case *Writer:
		if ifc.LinkType != w.Header().LinkType {
			return 0, fmt.Errorf("pcap: a pcap file has one link type, not %v and %v: write pcapng", w.Header().LinkType, ifc.LinkType)
		}
	}
	return 0, nil
}
