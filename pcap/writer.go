package pcap

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
)

// Magic numbers of the classic pcap file header, as written in host order.
const (
	magicMicroseconds uint32 = 0xa1b2c3d4
	magicNanoseconds  uint32 = 0xa1b23c4d
)

// FileHeader describes a classic pcap file.
type FileHeader struct {
	LinkType    LinkType
	Snaplen     uint32
	Nanoseconds bool // timestamps with nanosecond resolution (magic a1b23c4d)
}

// writerBufferSize is how many bytes of whole records Writer gathers
// before handing them to the underlying writer, unless told otherwise:
// small enough to stay in the processor's cache, and live captures also
// write whenever they wait for packets.
const writerBufferSize = 1 << 16

// bufferSizeOr is size, or writerBufferSize when size is not positive.
func bufferSizeOr(size int) int {
	if size <= 0 {
		return writerBufferSize
	}
	return size
}

// newBuffer is a write buffer of capacity size whose pages are already
// mapped: the kernel maps fresh memory on first touch, a fault per page
// (about 10 us on a virtual machine), which would otherwise land on the
// first packets a live capture writes.
func newBuffer(size int) []byte {
	b := make([]byte, size)
	page := os.Getpagesize()
	for i := 0; i < len(b); i += page {
		b[i] = 0
	}
	return b[:0]
}

// Writer writes a classic pcap file, little-endian, version 2.4.
//
// It hands the underlying writer whole records only, so what was written
// before a failure (a full disk) is a valid file. After a failure every
// call returns the same error; if the underlying writer has a Truncate
// method (an *os.File does), the torn record of the failed write is cut
// off, so the file ends cleanly with the last complete record.
type Writer struct {
	w       io.Writer
	header  FileHeader
	buf     []byte // whole records (and at first the file header) not yet written
	pending int    // bytes of buf before its first record: the unwritten file header
	written int64  // bytes the underlying writer took, a record boundary
	err     error
}

// NewWriter prepares the file header for w and returns a Writer for the
// packets. Nothing reaches w before the first Flush or a full buffer. Call
// Flush when done.
func NewWriter(w io.Writer, h FileHeader) (*Writer, error) {
	return newWriter(w, h, writerBufferSize)
}

// newWriter is NewWriter gathering up to bufferSize bytes (0: the default).
func newWriter(w io.Writer, h FileHeader, bufferSize int) (*Writer, error) {
	if h.Snaplen == 0 {
		h.Snaplen = 262144
	}
	pw := &Writer{w: w, header: h, buf: newBuffer(max(bufferSizeOr(bufferSize), fileHeaderLength))[:fileHeaderLength]}
	magic := magicMicroseconds
	if h.Nanoseconds {
		magic = magicNanoseconds
	}
	hdr := pw.buf
	binary.LittleEndian.PutUint32(hdr[0:], magic)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], h.Snaplen)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(h.LinkType))
	pw.pending = fileHeaderLength
	return pw, nil
}

// Header returns the header the file was written with.
func (pw *Writer) Header() FileHeader { return pw.header }

// WritePacket appends one record. Data longer than the snap length is cut
// to it, as libpcap's dumper does.
func (pw *Writer) WritePacket(ci CaptureInfo, data []byte) error {
	return pw.WritePacketInfo(&ci, data)
}

// WritePacketInfo is WritePacket taking the CaptureInfo by pointer, for
// loops over millions of packets that fill one in place: a copy of the
// struct made just after it was filled stalls the processor on each
// packet.
func (pw *Writer) WritePacketInfo(ci *CaptureInfo, data []byte) error {
	return pw.WriteRecord(uint32(ci.Timestamp.Unix()), uint32(ci.Timestamp.Nanosecond()), data, ci.Length)
}

// WriteRecord is WritePacket for a packet stamped sec seconds and nsec
// nanoseconds after the Unix epoch, as a capture ring stamps it: a loop
// over a ring's packets spares building a CaptureInfo for each.
func (pw *Writer) WriteRecord(sec, nsec uint32, data []byte, wireLength int) error {
	if pw.err != nil {
		return pw.err
	}
	if uint32(len(data)) > pw.header.Snaplen {
		data = data[:pw.header.Snaplen]
	}
	if len(pw.buf) > 0 && len(pw.buf)+recordHeaderLength+len(data) > cap(pw.buf) {
		if err := pw.Flush(); err != nil {
			return err
		}
	}
	pw.appendRecord(sec, nsec, data, wireLength)
	return nil
}

// appendRecord appends a record to the buffer, which has room for it or
// is empty; data is no longer than the snap length.
func (pw *Writer) appendRecord(sec, nsec uint32, data []byte, wireLength int) {
	frac := nsec
	if !pw.header.Nanoseconds {
		frac /= 1000
	}
	// The header is written in place: one built aside and copied in
	// would be read back (16 bytes at once) from the four stores that
	// just wrote it, which stalls the processor on every packet.
	n := len(pw.buf)
	pw.buf = slices.Grow(pw.buf, recordHeaderLength+len(data))[:n+recordHeaderLength+len(data)]
	r := pw.buf[n:]
	binary.LittleEndian.PutUint32(r[0:], sec)
	binary.LittleEndian.PutUint32(r[4:], frac)
	binary.LittleEndian.PutUint32(r[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(r[12:], uint32(max(wireLength, len(data))))
	copy(r[recordHeaderLength:], data)
}

// Flush writes the buffered records to the underlying writer.
func (pw *Writer) Flush() error {
	if pw.err != nil {
		return pw.err
	}
	if len(pw.buf) == 0 {
		return nil
	}
	n, err := pw.w.Write(pw.buf)
	if err == nil && n < len(pw.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		pw.err = fmt.Errorf("pcap: writing: %w", err)
		pw.cutTornRecord(n)
		return pw.err
	}
	pw.written += int64(n)
	pw.buf, pw.pending = pw.buf[:0], 0
	return nil
}

// Close flushes. It does not close the underlying writer.
func (pw *Writer) Close() error { return pw.Flush() }

// Size is the file's size once the buffered records are written.
func (pw *Writer) Size() int64 { return pw.written + int64(len(pw.buf)) }

// cutTornRecord truncates the underlying file, when it can be, to the last
// record boundary among the n bytes a failed write got out.
func (pw *Writer) cutTornRecord(n int) {
	t, ok := pw.w.(interface{ Truncate(size int64) error })
	if !ok || n <= 0 {
		return
	}
	whole := 0
	if n >= pw.pending {
		whole = pw.pending
		for whole+recordHeaderLength <= n {
			caplen := int(binary.LittleEndian.Uint32(pw.buf[whole+8:]))
			if whole+recordHeaderLength+caplen > n {
				break
			}
			whole += recordHeaderLength + caplen
		}
	}
	_ = t.Truncate(pw.written + int64(whole)) // best effort: the write error is what matters
}
