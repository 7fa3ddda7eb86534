package pcap

import "time"

// CaptureInfo is the metadata recorded with each packet.
type CaptureInfo struct {
	Timestamp      time.Time
	CaptureLength  int // bytes present in the packet data
	Length         int // bytes on the wire
	InterfaceIndex int // pcapng interface number; 0 for pcap files
	LinkType       LinkType
	// Direction is whether the packet came in or went out, when the source
	// knows (pcapng epb_flags bits 0-1).
	Direction Direction
	// Flags holds the other bits of pcapng epb_flags (reception type, FCS
	// length, link-layer errors) as read, so a pcapng copy keeps them; the
	// direction bits are in Direction, not here.
	Flags uint32
	// Comment is the packet's opt_comment (several are joined by "\n");
	// empty when there is none, which costs no allocation.
	Comment string
}

// Direction is a packet's direction relative to the capturing interface,
// with pcapng's epb_flags values.
type Direction uint8

// Directions, as epb_flags bits 0-1.
const (
	DirectionUnknown  Direction = 0
	DirectionInbound  Direction = 1
	DirectionOutbound Direction = 2
)

func (d Direction) String() string {
	switch d {
	case DirectionInbound:
		return "in"
	case DirectionOutbound:
		return "out"
	}
	return "unknown"
}

// epbFlagsDirectionMask selects the direction bits of epb_flags.
const epbFlagsDirectionMask = 0x3

// PacketSource is anything that yields packets one at a time: a file
// reader, a live ring, an XDP ring buffer. The returned data is valid only
// until the next call. At the end it returns io.EOF.
type PacketSource interface {
	ReadPacket() ([]byte, CaptureInfo, error)
}
