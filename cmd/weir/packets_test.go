package main

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/weircap/weir/pcap"
)

// Test addresses come from the benchmarking ranges (198.18.0.0/15) and a
// unique-local IPv6 prefix.
var (
	hostA  = []byte{198, 18, 0, 1}
	hostB  = []byte{198, 18, 0, 2}
	host6A = []byte{0xfd, 0, 0xbe, 0xef, 15: 1}
	host6B = []byte{0xfd, 0, 0xbe, 0xef, 15: 2}
	macA   = []byte{2, 0, 0, 0, 0, 1}
	macB   = []byte{2, 0, 0, 0, 0, 2}
)

func ipv4Packet(proto byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	h[8] = 64
	h[9] = proto
	copy(h[12:], hostA)
	copy(h[16:], hostB)
	return append(h, payload...)
}

func ipv6Packet(next byte, payload []byte) []byte {
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = next
	h[7] = 64
	copy(h[8:], host6A)
	copy(h[24:], host6B)
	return append(h, payload...)
}

func tcpSegment(sport, dport uint16, payloadLen int) []byte {
	h := make([]byte, 20+payloadLen)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	h[12] = 5 << 4
	h[13] = 0x18 // PSH ACK
	return h
}

func udpDatagram(sport, dport uint16, payloadLen int) []byte {
	h := make([]byte, 8+payloadLen)
	binary.BigEndian.PutUint16(h[0:], sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint16(h[4:], uint16(8+payloadLen))
	return h
}

// icmpEcho builds an ICMP or ICMPv6 echo message (types 8/0 or 128/129).
func icmpEcho(typ byte, id, seq uint16, payloadLen int) []byte {
	h := make([]byte, 8+payloadLen)
	h[0] = typ
	binary.BigEndian.PutUint16(h[4:], id)
	binary.BigEndian.PutUint16(h[6:], seq)
	return h
}

func arpPacket(op uint16) []byte {
	a := make([]byte, 28)
	binary.BigEndian.PutUint16(a[0:], 1)
	binary.BigEndian.PutUint16(a[2:], 0x0800)
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:], op)
	copy(a[8:], macA)
	copy(a[14:], hostA)
	if op == 2 {
		copy(a[18:], macB)
	}
	copy(a[24:], hostB)
	return a
}

func ethernetFrame(etherType uint16, payload []byte) []byte {
	h := make([]byte, 14, 14+len(payload))
	copy(h[0:], macB)
	copy(h[6:], macA)
	binary.BigEndian.PutUint16(h[12:], etherType)
	return append(h, payload...)
}

func sllFrame(protocol uint16, payload []byte) []byte {
	h := make([]byte, 16, 16+len(payload))
	binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], macA)
	binary.BigEndian.PutUint16(h[14:], protocol)
	return append(h, payload...)
}

func sll2Frame(protocol uint16, ifIndex uint32, packetType byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	binary.BigEndian.PutUint16(h[0:], protocol)
	binary.BigEndian.PutUint32(h[4:], ifIndex)
	binary.BigEndian.PutUint16(h[8:], 1)
	h[10] = packetType
	h[11] = 6
	copy(h[12:], macA)
	return append(h, payload...)
}

// nullFrame is BSD loopback: the address family in the writer's (here
// little-endian) byte order.
func nullFrame(family uint32, payload []byte) []byte {
	h := binary.LittleEndian.AppendUint32(nil, family)
	return append(h, payload...)
}

func loopFrame(family uint32, payload []byte) []byte {
	h := binary.BigEndian.AppendUint32(nil, family)
	return append(h, payload...)
}

// testTime is the first packet's timestamp; packet i is i seconds later.
var testTime = time.Unix(1700000000, 123456789)

// captureBytes encodes packets as a pcap file.
func captureBytes(t testing.TB, lt pcap.LinkType, nanos bool, packets ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.FileHeader{LinkType: lt, Snaplen: 262144, Nanoseconds: nanos})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range packets {
		ci := pcap.CaptureInfo{Timestamp: testTime.Add(time.Duration(i) * time.Second), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeCapture writes packets to a pcap file in a temporary directory.
func writeCapture(t *testing.T, lt pcap.LinkType, packets ...[]byte) string {
	t.Helper()
	return writeTempFile(t, "in.pcap", string(captureBytes(t, lt, false, packets...)))
}

func writeTempFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// clockAt is how weir prints the time of packet i (local time).
func clockAt(i int, nanos bool) string {
	return string(appendClock(nil, testTime.Add(time.Duration(i)*time.Second).Local(), nanos))
}
