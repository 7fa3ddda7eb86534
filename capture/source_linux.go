package capture

import (
	"errors"

	"github.com/weircap/weir/pcap"
)

// Source is a live capture. (Placeholder until the AF_PACKET ring lands.)
type Source struct{}

var errPending = errors.New("capture: live capture is not implemented yet")

// Open opens a live capture.
func Open(cfg Config) (*Source, error) { return nil, errPending }

// ReadPacket returns the next packet.
func (s *Source) ReadPacket() ([]byte, pcap.CaptureInfo, error) {
	return nil, pcap.CaptureInfo{}, errPending
}

// LinkType is the capture's link type.
func (s *Source) LinkType() pcap.LinkType { return 0 }

// Snaplen is the capture's snap length.
func (s *Source) Snaplen() uint32 { return 0 }

// Stats returns the kernel's counters.
func (s *Source) Stats() (Stats, error) { return Stats{}, errPending }

// Stop makes ReadPacket return io.EOF once the ring is drained.
func (s *Source) Stop() {}

// Close releases the sockets and rings.
func (s *Source) Close() error { return nil }

// Interfaces lists the network interfaces.
func Interfaces() ([]Interface, error) { return nil, errPending }

// DefaultInterface is the first up, non-loopback interface.
func DefaultInterface() (string, error) { return "", errPending }
