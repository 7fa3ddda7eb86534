package pcap

import (
	"errors"
	"fmt"
	"io"
)

// FormatError reports a malformed capture file and where the problem is.
type FormatError struct {
	Offset int64  // byte offset in the file of the bad header or record
	Msg    string // what is wrong
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("pcap: offset %d: %s", e.Offset, e.Msg)
}

// Reader reads packets from a pcap or pcapng stream; the format is told by
// the magic number.
type Reader struct {
	// implementation pending
}

var errNotImplemented = errors.New("pcap: reader not implemented")

// NewReader reads the file header from r.
func NewReader(r io.Reader) (*Reader, error) { return nil, errNotImplemented }

// ReadPacket returns the next packet; data is valid until the next call.
// It returns io.EOF at the end and a *FormatError for a bad record.
func (r *Reader) ReadPacket() ([]byte, CaptureInfo, error) {
	return nil, CaptureInfo{}, errNotImplemented
}

// LinkType is the file's link type (the first interface's, for pcapng).
func (r *Reader) LinkType() LinkType { return 0 }

// Snaplen is the file's snap length (the first interface's, for pcapng).
func (r *Reader) Snaplen() uint32 { return 0 }

// Nanoseconds reports whether timestamps have nanosecond resolution.
func (r *Reader) Nanoseconds() bool { return false }

// Format is "pcap" or "pcapng".
func (r *Reader) Format() string { return "" }
