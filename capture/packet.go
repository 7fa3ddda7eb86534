package capture

import (
	"encoding/binary"

	"github.com/weircap/weir/pcap"
)

// cookedHeader says which Linux cooked header, if any, user space builds in
// front of packets read from a SOCK_DGRAM socket.
type cookedHeader int

const (
	notCooked  cookedHeader = iota
	cookedSLL               // LINUX_SLL, 16 bytes
	cookedSLL2              // LINUX_SLL2, 20 bytes
)

// Cooked header lengths.
const (
	sllHeaderLen  = 16
	sll2HeaderLen = 20
)

// etherTypeVLAN is the tag protocol when the kernel does not report one.
const etherTypeVLAN = 0x8100

// linkMode is how packets of one capture are turned back into the frames
// a capture file holds.
type linkMode struct {
	LinkType pcap.LinkType
	Cooked   cookedHeader
	// VLANOffset is where a tag the kernel took out goes back (the offset
	// of the type field, as libpcap's vlan_offset), or -1 for never.
	VLANOffset int
}

// modeFor is the link mode of a link type: Ethernet puts VLAN tags back
// after the two addresses, LINUX_SLL before its protocol field; LINUX_SLL2
// and the others never (libpcap's set_vlan_offset).
func modeFor(lt pcap.LinkType) linkMode {
	m := linkMode{LinkType: lt, VLANOffset: -1}
	switch lt {
	case pcap.LinkTypeEthernet:
		m.VLANOffset = 12
	case pcap.LinkTypeLinuxSLL:
		m.Cooked, m.VLANOffset = cookedSLL, sllHeaderLen-2
	case pcap.LinkTypeLinuxSLL2:
		m.Cooked = cookedSLL2
	}
	return m
}

// headerLen is the cooked header's length.
func (m linkMode) headerLen() int {
	switch m.Cooked {
	case cookedSLL:
		return sllHeaderLen
	case cookedSLL2:
		return sll2HeaderLen
	}
	return 0
}

// addCookedHeader writes the cooked header, if the mode has one, in front
// of packet f in block b, into the headroom the kernel leaves before the
// data. It returns where the frame starts, the bytes present and the
// length on the wire; ok is false when the headroom is too small (which
// the kernel's layout never produces).
func (m linkMode) addCookedHeader(b []byte, f *frame) (start, caplen, wireLen int, ok bool) {
	start, caplen, wireLen = f.dataStart(), int(f.Snaplen), int(f.Len)
	n := m.headerLen()
	if n == 0 {
		return start, caplen, wireLen, true
	}
	if start-n < f.Offset+frameHeadroom {
		return 0, 0, 0, false
	}
	start -= n
	addr := parseLinkAddr(b, f.Offset)
	if m.Cooked == cookedSLL {
		putSLL(b[start:start+n], &addr)
	} else {
		putSLL2(b[start:start+n], &addr)
	}
	return start, caplen + n, wireLen + n, true
}

// putVLANTag puts back the VLAN tag the kernel took out of packet f, whose
// frame starts at start in block b, at the mode's offset, moving the bytes
// before it down into the headroom (libpcap does it only when the type
// field was captured). It returns the frame's new start and lengths.
func (m linkMode) putVLANTag(b []byte, f *frame, start, caplen, wireLen int) (int, int, int, bool) {
	if m.VLANOffset < 0 || !f.tagged() || caplen < m.VLANOffset {
		return start, caplen, wireLen, true
	}
	if start-vlanTagLen < f.Offset+frameHeadroom {
		return 0, 0, 0, false
	}
	copy(b[start-vlanTagLen:], b[start:start+m.VLANOffset])
	start -= vlanTagLen
	tag := b[start+m.VLANOffset:]
	binary.BigEndian.PutUint16(tag, vlanTPID(f))
	binary.BigEndian.PutUint16(tag[2:], uint16(f.VLANTCI))
	return start, caplen + vlanTagLen, wireLen + vlanTagLen, true
}

// vlanTPID is the protocol of the tag the kernel took out of packet f.
func vlanTPID(f *frame) uint16 {
	if f.Status&statusVLANTPIDValid != 0 {
		return f.VLANTPID
	}
	return etherTypeVLAN
}

// putSLL writes a LINUX_SLL header: packet type, ARPHRD type, address
// length, address (8 bytes) and protocol, all big-endian.
func putSLL(h []byte, a *linkAddr) {
	pktType := uint16(a.PktType)
	if a.PktType > 4 {
		pktType = 0xffff // libpcap maps unknown types to -1
	}
	binary.BigEndian.PutUint16(h[0:], pktType)
	binary.BigEndian.PutUint16(h[2:], a.HAType)
	binary.BigEndian.PutUint16(h[4:], uint16(a.AddrLen))
	putAddr(h[6:14], a)
	binary.BigEndian.PutUint16(h[14:], a.Protocol)
}

// putSLL2 writes a LINUX_SLL2 header: protocol, reserved zero, interface
// index, ARPHRD type, packet type, address length and address.
func putSLL2(h []byte, a *linkAddr) {
	binary.BigEndian.PutUint16(h[0:], a.Protocol)
	binary.BigEndian.PutUint16(h[2:], 0)
	binary.BigEndian.PutUint32(h[4:], uint32(a.Ifindex))
	binary.BigEndian.PutUint16(h[8:], a.HAType)
	h[10] = a.PktType
	h[11] = a.AddrLen
	putAddr(h[12:20], a)
}

// putAddr copies the link-layer address and zeroes the bytes past its
// length, which the kernel leaves as they were.
func putAddr(dst []byte, a *linkAddr) {
	n := copy(dst, a.Addr[:a.addrBytes])
	clear(dst[n:])
}
