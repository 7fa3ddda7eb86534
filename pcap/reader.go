package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
)

// FormatError reports a malformed capture file and where the problem is.
type FormatError struct {
	Offset int64  // byte offset in the file of the bad header, block or record
	Msg    string // what is wrong
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("pcap: offset %d: %s", e.Offset, e.Msg)
}

func formatErrorf(offset int64, format string, args ...any) *FormatError {
	return &FormatError{Offset: offset, Msg: fmt.Sprintf(format, args...)}
}

// Reader reads packets from a pcap or pcapng stream; the format is told by
// the magic number. It reads forward only, so standard input and pipes
// work. ReadPacket does not allocate: the returned data is a view of the
// Reader's buffer, valid until the next call.
type Reader struct {
	in  *input
	err error // sticky: once set, every ReadPacket returns it

	pcapng      bool // rather than classic pcap
	compression Compression
	classic     classicState
	ng          ngState
}

// NewReader reads the file header from r (for pcapng, up to the first
// interface description, so LinkType and Snaplen are known). It never
// seeks, so r may be a pipe. A gzip or zstd stream, told by its magic
// number, is decompressed as it is read.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{in: newInput(r)}
	n, err := rd.in.ensure(4)
	if err != nil {
		return nil, err
	}
	if n < 4 {
		return nil, formatErrorf(0, "truncated file header (%d bytes)", n)
	}
	if c := compressionOf(rd.in.peek(n)); c != CompressionNone {
		if err := rd.in.decompress(c); err != nil {
			return nil, err
		}
		rd.compression = c
		if n, err = rd.in.ensure(4); err != nil {
			return nil, err
		}
		if n < 4 {
			return nil, formatErrorf(0, "truncated file header (%d bytes)", n)
		}
	}
	magic := rd.in.peek(4)
	switch {
	case binary.BigEndian.Uint32(magic) == blockTypeSectionHeader:
		rd.pcapng = true
		err = rd.startPcapng()
	case isClassicMagic(magic):
		err = rd.startClassic()
	default:
		err = formatErrorf(0, "not a pcap or pcapng file (magic 0x%08x)", binary.BigEndian.Uint32(magic))
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// ReadPacket returns the next packet; data is valid until the next call.
// It returns io.EOF at the end and a *FormatError for a bad record; the
// packets before a bad record are returned normally.
func (r *Reader) ReadPacket() (data []byte, ci CaptureInfo, err error) {
	if r.err != nil {
		return nil, CaptureInfo{}, r.err
	}
	// The parsers fill ci in place: copying it through every layer costs
	// more than the parsing.
	if r.pcapng {
		data, err = r.readPcapng(&ci)
	} else {
		data, err = r.readClassic(&ci)
	}
	if err != nil {
		r.err = err
		return nil, CaptureInfo{}, err
	}
	return data, ci, nil
}

// LinkType is the file's link type (the first interface's, for pcapng).
func (r *Reader) LinkType() LinkType {
	if r.pcapng {
		return r.ng.first.LinkType
	}
	return r.classic.linkType
}

// Snaplen is the file's snap length (the first interface's, for pcapng).
func (r *Reader) Snaplen() uint32 {
	if r.pcapng {
		return r.ng.first.Snaplen
	}
	return r.classic.snaplen
}

// Nanoseconds reports whether timestamps are finer than microseconds (for
// pcapng, those of the first interface).
func (r *Reader) Nanoseconds() bool {
	if r.pcapng {
		return r.ng.first.TimestampResolution > 1_000_000
	}
	return r.classic.nanoseconds
}

// Compression is how the file was compressed (gzip and zstd are read
// transparently; FormatError offsets then count decompressed bytes).
func (r *Reader) Compression() Compression { return r.compression }

// Format is "pcap" or "pcapng".
func (r *Reader) Format() string {
	if r.pcapng {
		return "pcapng"
	}
	return "pcap"
}

// Interfaces returns the interfaces of the current pcapng section, indexed
// by CaptureInfo.InterfaceIndex; for a classic pcap file, the single
// interface its header describes. The slice must not be modified.
func (r *Reader) Interfaces() []Interface {
	if r.pcapng {
		return r.ng.interfaces
	}
	return []Interface{r.classic.iface()}
}

// BigEndian reports whether the file (for pcapng, its current section)
// was written big-endian. Link layers that store host-order fields, such
// as DLT_NULL's address family, follow this order.
func (r *Reader) BigEndian() bool {
	if r.pcapng {
		return r.ng.order.big
	}
	return r.classic.order.big
}

// Section returns the current pcapng section's header options; for a
// classic pcap file, none.
func (r *Reader) Section() Section {
	return r.ng.section
}

// SectionIndex numbers the current pcapng section from 0: a new section
// starts a new list of interfaces, so a copy that keeps interfaces apart
// keys them by (SectionIndex, InterfaceIndex). It is 0 for classic pcap.
func (r *Reader) SectionIndex() int {
	return r.ng.sectionIndex
}

// Stats returns the latest interface statistics block read so far in the
// current section for the interface with the given index, if any. They
// usually end a file, so ask after io.EOF.
func (r *Reader) Stats(index int) (InterfaceStats, bool) {
	if index < 0 || index >= len(r.ng.stats) || !r.ng.stats[index].seen {
		return InterfaceStats{}, false
	}
	return r.ng.stats[index].stats, true
}
