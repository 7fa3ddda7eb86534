package pcap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
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

// Writer writes a classic pcap file, little-endian, version 2.4.
type Writer struct {
	w      *bufio.Writer
	header FileHeader
	record [16]byte
}

// NewWriter writes the file header to w and returns a Writer for the
// packets. Call Flush when done.
func NewWriter(w io.Writer, h FileHeader) (*Writer, error) {
	if h.Snaplen == 0 {
		h.Snaplen = 262144
	}
	pw := &Writer{w: bufio.NewWriterSize(w, 1<<16), header: h}
	var hdr [24]byte
	magic := magicMicroseconds
	if h.Nanoseconds {
		magic = magicNanoseconds
	}
	binary.LittleEndian.PutUint32(hdr[0:], magic)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], h.Snaplen)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(h.LinkType))
	if _, err := pw.w.Write(hdr[:]); err != nil {
		return nil, fmt.Errorf("pcap: writing file header: %w", err)
	}
	return pw, nil
}

// Header returns the header the file was written with.
func (pw *Writer) Header() FileHeader { return pw.header }

// WritePacket appends one record. Data longer than the snap length is cut
// to it, as libpcap's dumper does.
func (pw *Writer) WritePacket(ci CaptureInfo, data []byte) error {
	if uint32(len(data)) > pw.header.Snaplen {
		data = data[:pw.header.Snaplen]
	}
	wireLength := ci.Length
	if wireLength < len(data) {
		wireLength = len(data)
	}
	sec := ci.Timestamp.Unix()
	frac := ci.Timestamp.Nanosecond()
	if !pw.header.Nanoseconds {
		frac /= 1000
	}
	r := pw.record[:]
	binary.LittleEndian.PutUint32(r[0:], uint32(sec))
	binary.LittleEndian.PutUint32(r[4:], uint32(frac))
	binary.LittleEndian.PutUint32(r[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(r[12:], uint32(wireLength))
	if _, err := pw.w.Write(r); err != nil {
		return fmt.Errorf("pcap: writing record header: %w", err)
	}
	if _, err := pw.w.Write(data); err != nil {
		return fmt.Errorf("pcap: writing packet data: %w", err)
	}
	return nil
}

// Flush writes buffered records to the underlying writer.
func (pw *Writer) Flush() error {
	if err := pw.w.Flush(); err != nil {
		return fmt.Errorf("pcap: %w", err)
	}
	return nil
}
