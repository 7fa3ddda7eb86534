package main

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"time"

	"github.com/weircap/weir/pcap"
)

// writeBig writes n Ethernet packets of benchmark traffic: about 82% TCP
// (mostly ports 443, 80, 22, 8080, 5432; some SYN, FIN, RST), 14% UDP,
// 3% ICMP/ICMPv6, 1% ARP, 12% of IP over IPv6; clients in 198.18.0.0/15
// and fd00:beef::/64, servers in 198.19.200.0/24; frames of 60-1514 bytes.
// The same n gives the same file.
func writeBig(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := pcap.NewWriter(f, pcap.FileHeader{LinkType: pcap.LinkTypeEthernet})
	if err != nil {
		return err
	}
	g := newBigGen()
	ts := baseTime
	for i := 0; i < n; i++ {
		data := g.next()
		ts = ts.Add(time.Duration(1+g.rng.IntN(20)) * time.Microsecond)
		if err := w.WritePacket(pcap.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// bigGen builds packets into one reused buffer.
type bigGen struct {
	rng     *rand.Rand
	buf     []byte
	pattern []byte // payload bytes, copied as needed
}

func newBigGen() *bigGen {
	g := &bigGen{rng: rand.New(rand.NewPCG(42, 0x5eed)), buf: make([]byte, 1514)}
	g.pattern = make([]byte, 1500)
	for i := range g.pattern {
		g.pattern[i] = byte(i*31 + 7)
	}
	return g
}

var (
	bigServerMAC = mac{0x02, 0x00, 0xc6, 0x13, 0xc8, 0x01}
	bigClientMAC = mac{0x02, 0x00, 0xc6, 0x12, 0x00, 0x01}
	tcpServices  = []uint16{443, 443, 443, 443, 443, 443, 443, 443, 80, 80, 80, 80, 22, 22, 8080, 8080, 5432, 5432, 0, 0}
)

func (g *bigGen) next() []byte {
	r := g.rng.IntN(1000)
	switch {
	case r < 10:
		return g.arp()
	case r < 40:
		return g.ip(protoICMP, 0, 0, 0, 8+g.rng.IntN(56))
	case r < 180:
		return g.udp()
	}
	return g.tcp()
}

func (g *bigGen) arp() []byte {
	b := g.buf[:60]
	clear(b)
	copy(b[0:], macBroadcast[:])
	copy(b[6:], bigClientMAC[:])
	binary.BigEndian.PutUint16(b[12:], etherTypeARP)
	copy(b[14:], []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(b[22:], bigClientMAC[:])
	binary.BigEndian.PutUint32(b[28:], g.clientV4())
	binary.BigEndian.PutUint32(b[38:], 0xc613c800|uint32(1+g.rng.IntN(254)))
	return b
}

func (g *bigGen) udp() []byte {
	var port uint16
	var size int
	switch u := g.rng.IntN(10); {
	case u < 4:
		port, size = 53, 30+g.rng.IntN(90)
	case u < 7:
		port, size = 443, 100+g.rng.IntN(1100)
	case u < 8:
		port, size = 5353, 40+g.rng.IntN(160)
	case u < 9:
		port, size = 123, 48
	default:
		port, size = 514, 50+g.rng.IntN(250)
	}
	return g.ip(protoUDP, port, 0, 0, size)
}

func (g *bigGen) tcp() []byte {
	port := tcpServices[g.rng.IntN(len(tcpServices))]
	if port == 0 {
		port = uint16(1024 + g.rng.IntN(64000))
	}
	var flags uint8
	size := 0
	switch u := g.rng.IntN(1000); {
	case u < 20:
		flags = syn
	case u < 40:
		flags = syn | ack
	case u < 65:
		flags = fin | ack
	case u < 70:
		flags = rst
	case u < 700:
		flags = ack
		if g.rng.IntN(100) < 7 {
			size = 1400 + g.rng.IntN(61) // bulk data without PSH
		}
	default:
		flags = psh | ack
		switch s := g.rng.IntN(100); {
		case s < 70:
			size = 20 + g.rng.IntN(280)
		case s < 92:
			size = 300 + g.rng.IntN(700)
		default:
			size = 1400 + g.rng.IntN(61)
		}
	}
	return g.ip(protoTCP, port, flags, uint32(g.rng.Uint32()), size)
}

func (g *bigGen) clientV4() uint32 { return 0xc6120000 | uint32(g.rng.IntN(1<<17)) }

// ip builds an Ethernet frame with an IPv4 or IPv6 header and a TCP, UDP or
// ICMP/ICMPv6 (echo) header followed by size payload bytes. The client
// sends to the service port or the server answers from it.
func (g *bigGen) ip(proto uint8, port uint16, flags uint8, seq uint32, size int) []byte {
	isV6 := g.rng.IntN(100) < 12
	toServer := g.rng.IntN(2) == 0
	ephemeral := uint16(32768 + g.rng.IntN(28000))
	l3 := 20
	if isV6 {
		l3 = 40
		if proto == protoICMP {
			proto = protoICMPv6
		}
	}
	l4 := 8
	if proto == protoTCP {
		l4 = 20
	}
	if 14+l3+l4+size > 1514 {
		size = 1514 - 14 - l3 - l4
	}
	total := 14 + l3 + l4 + size
	frameLen := max(total, 60)
	b := g.buf[:frameLen]
	clear(b[:14+l3+l4])
	clear(b[total:])
	srcMAC, dstMAC := bigClientMAC, bigServerMAC
	if !toServer {
		srcMAC, dstMAC = dstMAC, srcMAC
	}
	copy(b[0:], dstMAC[:])
	copy(b[6:], srcMAC[:])

	ipHdr, seg := b[14:14+l3], b[14+l3:total]
	copy(seg[l4:], g.pattern[:size])
	var pseudo uint32
	if isV6 {
		binary.BigEndian.PutUint16(b[12:], etherTypeIPv6)
		ipHdr[0] = 0x60
		binary.BigEndian.PutUint16(ipHdr[4:], uint16(l4+size))
		ipHdr[6], ipHdr[7] = proto, 64
		client, server := ipHdr[8:24], ipHdr[24:40]
		if !toServer {
			client, server = server, client
		}
		copy(client, []byte{0xfd, 0, 0xbe, 0xef})
		binary.BigEndian.PutUint16(client[14:], uint16(g.rng.Uint32()))
		copy(server, []byte{0xfd, 0, 0xbe, 0xef})
		binary.BigEndian.PutUint16(server[14:], uint16(0x100+g.rng.IntN(16)))
		pseudo = sumBytes(ipHdr[8:40]) + uint32(proto) + uint32(l4+size)
	} else {
		binary.BigEndian.PutUint16(b[12:], etherTypeIPv4)
		ipHdr[0] = 0x45
		binary.BigEndian.PutUint16(ipHdr[2:], uint16(l3+l4+size))
		binary.BigEndian.PutUint16(ipHdr[4:], uint16(g.rng.Uint32()))
		ipHdr[6] = 0x40 // DF
		ipHdr[8], ipHdr[9] = 64, proto
		client, server := ipHdr[12:16], ipHdr[16:20]
		if !toServer {
			client, server = server, client
		}
		binary.BigEndian.PutUint32(client, g.clientV4())
		binary.BigEndian.PutUint32(server, 0xc613c800|uint32(1+g.rng.IntN(254)))
		binary.BigEndian.PutUint16(ipHdr[10:], checksum(ipHdr))
		pseudo = sumBytes(ipHdr[12:20]) + uint32(proto) + uint32(l4+size)
	}

	sport, dport := ephemeral, port
	if !toServer {
		sport, dport = port, ephemeral
	}
	switch proto {
	case protoTCP:
		binary.BigEndian.PutUint16(seg[0:], sport)
		binary.BigEndian.PutUint16(seg[2:], dport)
		binary.BigEndian.PutUint32(seg[4:], seq)
		if flags&ack != 0 {
			binary.BigEndian.PutUint32(seg[8:], ^seq)
		}
		seg[12], seg[13] = 0x50, flags
		binary.BigEndian.PutUint16(seg[14:], 502)
		binary.BigEndian.PutUint16(seg[16:], fold(pseudo+sumBytes(seg)))
	case protoUDP:
		binary.BigEndian.PutUint16(seg[0:], sport)
		binary.BigEndian.PutUint16(seg[2:], dport)
		binary.BigEndian.PutUint16(seg[4:], uint16(l4+size))
		binary.BigEndian.PutUint16(seg[6:], fold(pseudo+sumBytes(seg)))
	case protoICMP:
		seg[0] = 8
		if !toServer {
			seg[0] = 0
		}
		binary.BigEndian.PutUint16(seg[4:], ephemeral)
		binary.BigEndian.PutUint16(seg[2:], checksum(seg))
	case protoICMPv6:
		seg[0] = 128
		if !toServer {
			seg[0] = 129
		}
		binary.BigEndian.PutUint16(seg[4:], ephemeral)
		binary.BigEndian.PutUint16(seg[2:], fold(pseudo+sumBytes(seg)))
	}
	return b
}
