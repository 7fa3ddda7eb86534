package main

import (
	"encoding/binary"
	"net/netip"

	"github.com/weircap/weir/pcap"
)

type mac [6]byte

var (
	macBroadcast = mac{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	macSTP       = mac{0x01, 0x80, 0xc2, 0, 0, 0}
	macZero      = mac{}
)

// macFor is the MAC an address would have on the wire: the multicast
// mapping for group addresses, broadcast for the limited broadcast and the
// 198.18.0.0/15 directed broadcast, a locally administered unicast MAC
// derived from the address otherwise.
func macFor(a netip.Addr) mac {
	b := a.AsSlice()
	n := len(b)
	switch {
	case a.Is4() && (a == netip.MustParseAddr("255.255.255.255") || a == netip.MustParseAddr("198.19.255.255")):
		return macBroadcast
	case a.Is4() && a.IsMulticast():
		return mac{0x01, 0x00, 0x5e, b[1] & 0x7f, b[2], b[3]}
	case a.Is6() && a.IsMulticast():
		return mac{0x33, 0x33, b[12], b[13], b[14], b[15]}
	}
	return mac{0x02, 0x00, b[n-4], b[n-3], b[n-2], b[n-1]}
}

// A frame is one packet of the catalog, independent of the link layer:
// what follows the link header, and what the link header must say.
type frame struct {
	desc      string
	etherType uint16 // type of payload; 0 for an 802.3 frame whose payload is LLC
	payload   []byte
	src, dst  mac
	vlanTCI   uint16 // with tagged: an 802.1Q tag before etherType
	tagged    bool
	captured  int // bytes of payload captured (truncated packets); 0 = all
}

func (f frame) isIP() bool { return f.etherType == etherTypeIPv4 || f.etherType == etherTypeIPv6 }

func (f frame) truncate(n int) frame { f.captured = n; return f }

func (f frame) vlan(tci uint16) frame { f.tagged, f.vlanTCI = true, tci; return f }

func (f frame) macs(src, dst mac) frame { f.src, f.dst = src, dst; return f }

func (f frame) describe(s string) frame { f.desc = s; return f }

// Linux cooked-capture packet types.
const (
	sllHost      = 0
	sllBroadcast = 1
	sllMulticast = 2
	sllOtherHost = 3
	sllOutgoing  = 4
)

// sllPacketType follows the destination MAC, and spreads unicast frames
// over host, otherhost and outgoing.
func (f frame) sllPacketType(index int) uint16 {
	switch {
	case f.dst == macBroadcast:
		return sllBroadcast
	case f.dst[0]&1 == 1:
		return sllMulticast
	}
	return []uint16{sllHost, sllOutgoing, sllHost, sllOtherHost, sllOutgoing}[index%5]
}

var interfaceIndexes = []uint32{1, 2, 3, 7, 12}

// linkProtocol is the protocol field of cooked headers: the EtherType, or
// ETH_P_802_2 for LLC frames.
func (f frame) linkProtocol() uint16 {
	switch {
	case f.tagged:
		return etherTypeVLAN
	case f.etherType == 0:
		return 0x0004
	}
	return f.etherType
}

// body is what follows the link header: the tag, if any, then the payload.
func (f frame) body() []byte {
	if !f.tagged {
		return f.payload
	}
	b := binary.BigEndian.AppendUint16(nil, f.vlanTCI)
	b = binary.BigEndian.AppendUint16(b, f.inner())
	return append(b, f.payload...)
}

// inner is the EtherType, or the 802.3 length for an LLC frame.
func (f frame) inner() uint16 {
	if f.etherType == 0 {
		return uint16(len(f.payload))
	}
	return f.etherType
}

// BSD address families for IPv6 in DLT_NULL/DLT_LOOP headers: OpenBSD and
// NetBSD, FreeBSD, Darwin.
var bsdInet6 = []uint32{24, 28, 30}

// wrap returns the packet as captured on lt: the captured bytes and the
// wire length. ok is false when the frame cannot exist on lt.
func wrap(lt pcap.LinkType, f frame, index int) (data []byte, wireLen int, ok bool) {
	var hdr []byte
	body := f.body()
	switch lt {
	case pcap.LinkTypeEthernet:
		hdr = append(append([]byte(nil), f.dst[:]...), f.src[:]...)
		if f.tagged {
			hdr = binary.BigEndian.AppendUint16(hdr, etherTypeVLAN)
		} else {
			hdr = binary.BigEndian.AppendUint16(hdr, f.inner())
		}
		for len(hdr)+len(body) < 60 {
			body = append(body[:len(body):len(body)], 0) // Ethernet padding
		}
	case pcap.LinkTypeLinuxSLL:
		hdr = binary.BigEndian.AppendUint16(nil, f.sllPacketType(index))
		hdr = binary.BigEndian.AppendUint16(hdr, 1) // ARPHRD_ETHER
		hdr = binary.BigEndian.AppendUint16(hdr, 6)
		hdr = append(hdr, f.src[:]...)
		hdr = append(hdr, 0, 0)
		hdr = binary.BigEndian.AppendUint16(hdr, f.linkProtocol())
	case pcap.LinkTypeLinuxSLL2:
		hdr = binary.BigEndian.AppendUint16(nil, f.linkProtocol())
		hdr = append(hdr, 0, 0)
		hdr = binary.BigEndian.AppendUint32(hdr, interfaceIndexes[index%len(interfaceIndexes)])
		hdr = binary.BigEndian.AppendUint16(hdr, 1) // ARPHRD_ETHER
		hdr = append(hdr, byte(f.sllPacketType(index)), 6)
		hdr = append(hdr, f.src[:]...)
		hdr = append(hdr, 0, 0)
	case pcap.LinkTypeRaw, pcap.LinkTypeIPv4, pcap.LinkTypeIPv6, pcap.LinkTypeNull, pcap.LinkTypeLoop:
		if !f.isIP() || f.tagged {
			return nil, 0, false
		}
		if lt == pcap.LinkTypeIPv4 && f.etherType != etherTypeIPv4 || lt == pcap.LinkTypeIPv6 && f.etherType != etherTypeIPv6 {
			return nil, 0, false
		}
		family := uint32(2) // AF_INET everywhere
		if f.etherType == etherTypeIPv6 {
			family = bsdInet6[index%len(bsdInet6)]
		}
		switch lt {
		case pcap.LinkTypeNull:
			hdr = binary.LittleEndian.AppendUint32(nil, family) // host order of the writer
		case pcap.LinkTypeLoop:
			hdr = binary.BigEndian.AppendUint32(nil, family)
		}
	default:
		return nil, 0, false
	}
	data = append(hdr, body...)
	wireLen = len(data)
	if f.captured > 0 {
		tagLen := len(f.body()) - len(f.payload)
		data = data[:len(hdr)+tagLen+f.captured]
	}
	return data, wireLen, true
}
