package pcap

import "time"

// CaptureInfo is the metadata recorded with each packet.
type CaptureInfo struct {
	Timestamp      time.Time
	CaptureLength  int // bytes present in the packet data
	Length         int // bytes on the wire
	InterfaceIndex int // pcapng interface number; 0 for pcap files
	LinkType       LinkType
}

// PacketSource is anything that yields packets one at a time: a file
// reader, a live ring, an XDP ring buffer. The returned data is valid only
// until the next call. At the end it returns io.EOF.
type PacketSource interface {
	ReadPacket() ([]byte, CaptureInfo, error)
}
