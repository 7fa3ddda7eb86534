package main

import (
	"bufio"
	"encoding/binary"
	"net"
	"time"

	"github.com/weircap/weir/pcap"
)

// printer writes one line per packet in the words of `tcpdump -nq`: the
// local time of day, then a summary of the network layer. Full protocol
// decoding is out of its scope; it never allocates per packet.
type printer struct {
	out          *bufio.Writer
	linkType     pcap.LinkType
	nanos        bool // print nine fraction digits, not six
	lineBuffered bool // flush after every line (-l)
	loc          *time.Location
	line         []byte // reused for every packet

	// Interface names for Linux cooked v2, looked up once per index.
	lookupInterface func(index int) string
	interfaceNames  map[uint32]string
}

func newPrinter(out *bufio.Writer, lt pcap.LinkType, nanos, lineBuffered bool) *printer {
	return &printer{
		out:             out,
		linkType:        lt,
		nanos:           nanos,
		lineBuffered:    lineBuffered,
		loc:             time.Local,
		line:            make([]byte, 0, 256),
		lookupInterface: systemInterfaceName,
		interfaceNames:  map[uint32]string{},
	}
}

func (p *printer) printPacket(ci pcap.CaptureInfo, data []byte) error {
	b := appendClock(p.line[:0], ci.Timestamp.In(p.loc), p.nanos)
	b = append(b, ' ')
	b = p.appendLinkLayer(b, data, ci.Length)
	b = append(b, '\n')
	p.line = b
	if _, err := p.out.Write(b); err != nil {
		return err
	}
	if p.lineBuffered {
		return p.out.Flush()
	}
	return nil
}

// appendClock writes HH:MM:SS.ffffff (or .fffffffff), as tcpdump's default
// timestamp.
func appendClock(b []byte, t time.Time, nanos bool) []byte {
	h, m, s := t.Clock()
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, m, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	if nanos {
		return appendDigits(b, t.Nanosecond(), 9)
	}
	return appendDigits(b, t.Nanosecond()/1000, 6)
}

// appendDigits writes n zero-padded to width digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for i := 0; i < width; i++ {
		b = append(b, '0')
	}
	for i := len(b) - 1; i >= start && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}

// appendLinkLayer skips the link-layer header and summarises what it
// carries. wireLen is the packet's length on the wire.
func (p *printer) appendLinkLayer(b []byte, data []byte, wireLen int) []byte {
	switch p.linkType {
	case pcap.LinkTypeEthernet:
		return appendEthernet(b, data, wireLen)
	case pcap.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return append(b, "[|sll]"...)
		}
		proto := binary.BigEndian.Uint16(data[14:16])
		return appendEtherType(b, proto, data[16:], wireLen-16, wireLen)
	case pcap.LinkTypeLinuxSLL2:
		return p.appendSLL2(b, data, wireLen)
	case pcap.LinkTypeRaw:
		return appendRawIP(b, data, wireLen)
	case pcap.LinkTypeIPv4:
		return appendIPv4Packet(b, data, wireLen)
	case pcap.LinkTypeIPv6:
		return appendIPv6Packet(b, data, wireLen)
	case pcap.LinkTypeNull:
		if len(data) < 4 {
			return append(b, "[|null]"...)
		}
		family := binary.LittleEndian.Uint32(data)
		if family&0xffff0000 != 0 { // written by a big-endian host
			family = binary.BigEndian.Uint32(data)
		}
		return appendAddressFamily(b, family, data[4:], wireLen)
	case pcap.LinkTypeLoop:
		if len(data) < 4 {
			return append(b, "[|loop]"...)
		}
		return appendAddressFamily(b, binary.BigEndian.Uint32(data), data[4:], wireLen)
	}
	b = append(b, "link-type "...)
	b = append(b, p.linkType.Name()...)
	b = append(b, ", length "...)
	return appendInt(b, wireLen)
}

func appendEthernet(b []byte, data []byte, wireLen int) []byte {
	if len(data) < 14 {
		return append(b, "[|ether]"...)
	}
	etherType := binary.BigEndian.Uint16(data[12:14])
	return appendEtherType(b, etherType, data[14:], wireLen-14, wireLen)
}

// Ethernet types weir summarises.
const (
	etherTypeIPv4  = 0x0800
	etherTypeARP   = 0x0806
	etherTypeRARP  = 0x8035
	etherTypeIPv6  = 0x86dd
	etherTypeVLAN  = 0x8100
	etherTypeQinQ  = 0x88a8
	etherTypeQinQ2 = 0x9100
	etherTypeMin   = 0x0600 // smaller values are 802.3 lengths
)

// appendEtherType summarises a payload by its Ethernet type, looking
// through VLAN tags as tcpdump does without -e. length is the payload's
// wire length; frameLen the whole packet's.
func appendEtherType(b []byte, etherType uint16, data []byte, length, frameLen int) []byte {
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQ2 {
		if len(data) < 4 {
			return append(b, "[|vlan]"...)
		}
		etherType = binary.BigEndian.Uint16(data[2:4])
		data, length = data[4:], length-4
	}
	switch {
	case etherType == etherTypeIPv4:
		return appendIPv4Packet(b, data, length)
	case etherType == etherTypeIPv6:
		return appendIPv6Packet(b, data, length)
	case etherType == etherTypeARP || etherType == etherTypeRARP:
		return appendARP(b, data, length)
	case etherType < etherTypeMin:
		b = append(b, "802.3 LLC, length "...)
		return appendInt(b, length)
	}
	b = append(b, "ethertype "...)
	b = appendHex16(b, etherType)
	b = append(b, ", length "...)
	return appendInt(b, frameLen)
}

// sllPacketTypes are tcpdump's names for Linux cooked packet types.
var sllPacketTypes = [...]string{"In", "B", "M", "P", "Out"}

// appendSLL2 prints the interface and direction first, as tcpdump does for
// Linux cooked v2 captures.
func (p *printer) appendSLL2(b []byte, data []byte, wireLen int) []byte {
	if len(data) < 20 {
		return append(b, "[|sll2]"...)
	}
	b = appendPadded(b, p.interfaceName(binary.BigEndian.Uint32(data[4:8])), 5)
	b = append(b, ' ')
	direction := "?"
	if int(data[10]) < len(sllPacketTypes) {
		direction = sllPacketTypes[data[10]]
	}
	b = appendPadded(b, direction, 3)
	b = append(b, ' ')
	proto := binary.BigEndian.Uint16(data[0:2])
	return appendEtherType(b, proto, data[20:], wireLen-20, wireLen)
}

func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for i := len(s); i < width; i++ {
		b = append(b, ' ')
	}
	return b
}

func (p *printer) interfaceName(index uint32) string {
	if name, ok := p.interfaceNames[index]; ok {
		return name
	}
	name := "?"
	if p.lookupInterface != nil {
		if n := p.lookupInterface(int(index)); n != "" {
			name = n
		}
	}
	p.interfaceNames[index] = name
	return name
}

// systemInterfaceName is the local name of an interface index, as tcpdump
// uses if_indextoname (hence its warning that names might be wrong for a
// capture made elsewhere).
func systemInterfaceName(index int) string {
	ifi, err := net.InterfaceByIndex(index)
	if err != nil {
		return ""
	}
	return ifi.Name
}

func appendRawIP(b []byte, data []byte, wireLen int) []byte {
	if len(data) < 1 {
		return append(b, "[|ip]"...)
	}
	switch data[0] >> 4 {
	case 4:
		return appendIPv4Packet(b, data, wireLen)
	case 6:
		return appendIPv6Packet(b, data, wireLen)
	}
	b = append(b, "ip version "...)
	b = appendInt(b, int(data[0]>>4))
	b = append(b, ", length "...)
	return appendInt(b, wireLen)
}

// appendAddressFamily handles the BSD loopback encapsulations (NULL, LOOP),
// where IPv6 has a different AF_INET6 value on each BSD.
func appendAddressFamily(b []byte, family uint32, data []byte, wireLen int) []byte {
	switch family {
	case 2:
		return appendIPv4Packet(b, data, wireLen-4)
	case 24, 28, 30:
		return appendIPv6Packet(b, data, wireLen-4)
	}
	name := "Unknown"
	switch family {
	case 7:
		name = "ISO"
	case 16:
		name = "Appletalk"
	case 23:
		name = "IPX"
	}
	b = append(b, "AF "...)
	b = append(b, name...)
	b = append(b, " ("...)
	b = appendInt(b, int(family))
	b = append(b, "), length "...)
	return appendInt(b, wireLen)
}

// appendARP prints ARP and RARP for Ethernet and IPv4 addresses, as
// tcpdump's arp_print. length is the ARP packet's wire length.
func appendARP(b []byte, data []byte, length int) []byte {
	b = append(b, "ARP, "...)
	if len(data) < 8 {
		return append(b, "[|arp]"...)
	}
	hardware := binary.BigEndian.Uint16(data[0:2])
	protocol := binary.BigEndian.Uint16(data[2:4])
	op := binary.BigEndian.Uint16(data[6:8])
	if data[4] != 6 || data[5] != 4 || protocol != etherTypeIPv4 {
		b = append(b, "hardware type "...)
		b = appendInt(b, int(hardware))
		b = append(b, ", protocol "...)
		b = appendHex16(b, protocol)
	} else if len(data) < 28 {
		return append(b, "[|arp]"...)
	} else {
		b = appendARPOperation(b, op, data[8:14], data[14:18], data[18:24], data[24:28])
	}
	b = append(b, ", length "...)
	return appendInt(b, length)
}

func appendARPOperation(b []byte, op uint16, sha, spa, tha, tpa []byte) []byte {
	switch op {
	case 1:
		b = append(b, "Request who-has "...)
		b = appendIPv4(b, tpa)
		if !allZero(tha) {
			b = append(b, " ("...)
			b = appendMAC(b, tha)
			b = append(b, ')')
		}
		b = append(b, " tell "...)
		return appendIPv4(b, spa)
	case 2:
		b = append(b, "Reply "...)
		b = appendIPv4(b, spa)
		b = append(b, " is-at "...)
		return appendMAC(b, sha)
	case 3:
		b = append(b, "Reverse Request who-is "...)
		b = appendMAC(b, tha)
		b = append(b, " tell "...)
		return appendMAC(b, sha)
	case 4:
		b = append(b, "Reverse Reply "...)
		b = appendMAC(b, tha)
		b = append(b, " at "...)
		return appendIPv4(b, tpa)
	}
	b = append(b, "Unknown ("...)
	b = appendInt(b, int(op))
	return append(b, ')')
}

func allZero(a []byte) bool {
	for _, x := range a {
		if x != 0 {
			return false
		}
	}
	return true
}
