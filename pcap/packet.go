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

// Packet types Linux gives each captured packet (sockaddr_ll's
// sll_pkttype, linux/if_packet.h).
const (
	linuxPacketHost      = 0
	linuxPacketBroadcast = 1
	linuxPacketMulticast = 2
	linuxPacketOtherHost = 3
	linuxPacketOutgoing  = 4
)

// pcapng epb_flags reception types (bits 2-4).
const (
	receptionUnicast     = 1 << 2
	receptionMulticast   = 2 << 2
	receptionBroadcast   = 3 << 2
	receptionPromiscuous = 4 << 2
)

// LinuxPacketDirection converts the packet type Linux reports for a
// captured packet (sll_pkttype) into its direction and the epb_flags
// reception type bits, for CaptureInfo.Direction and Flags: outgoing
// packets go out; those for this host, broadcast, multicast or another
// host (seen in promiscuous mode) come in. Other types are unknown.
func LinuxPacketDirection(pktType uint8) (Direction, uint32) {
	switch pktType {
	case linuxPacketHost:
		return DirectionInbound, receptionUnicast
	case linuxPacketBroadcast:
		return DirectionInbound, receptionBroadcast
	case linuxPacketMulticast:
		return DirectionInbound, receptionMulticast
	case linuxPacketOtherHost:
		return DirectionInbound, receptionPromiscuous
	case linuxPacketOutgoing:
		return DirectionOutbound, 0
	}
	return DirectionUnknown, 0
}
