package main

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// Application payloads, well-formed enough that dissectors do not call
// the packets malformed.

// dnsQuery is a DNS (or mDNS) query for one name; type 1 is A, 28 AAAA.
func dnsQuery(id uint16, name string, qtype uint16) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint16(b[0:], id)
	if id != 0 {
		b[2] = 0x01 // recursion desired
	}
	binary.BigEndian.PutUint16(b[4:], 1)
	b = append(b, dnsName(name)...)
	return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, qtype), 1)
}

// dnsResponse answers a query for an A record with one address.
func dnsResponse(id uint16, name string, addr [4]byte) []byte {
	b := dnsQuery(id, name, 1)
	b[2], b[3] = 0x81, 0x80
	binary.BigEndian.PutUint16(b[6:], 1)
	b = append(b, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4)
	return append(b, addr[:]...)
}

// dnsTXTResponse is a response of exactly size bytes whose answer is a
// TXT record of 200-byte strings, so most of its bytes are free text.
func dnsTXTResponse(id uint16, size int) []byte {
	b := dnsQuery(id, "big.example.com", 16)
	b[2], b[3] = 0x81, 0x80
	binary.BigEndian.PutUint16(b[6:], 1)
	rdLen := size - len(b) - 12
	b = append(b, 0xc0, 12, 0, 16, 0, 1, 0, 0, 0x0e, 0x10, byte(rdLen>>8), byte(rdLen))
	for rdLen > 0 {
		n := min(rdLen-1, 200)
		b = append(b, byte(n))
		b = append(b, filler(n, 'a')...)
		rdLen -= n + 1
	}
	return b
}

func dnsName(name string) []byte {
	var b []byte
	for _, label := range strings.Split(name, ".") {
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

// dhcp is a BOOTP/DHCP message with a message-type option.
func dhcp(op uint8, xid uint32, client mac, msgType uint8) []byte {
	b := make([]byte, 236)
	b[0], b[1], b[2] = op, 1, 6
	binary.BigEndian.PutUint32(b[4:], xid)
	copy(b[28:], client[:])
	b = append(b, 99, 130, 83, 99) // magic cookie
	b = append(b, 53, 1, msgType)
	return append(b, 255)
}

// ntp is an NTPv4 client request (mode 3) or server reply (mode 4).
func ntp(mode uint8) []byte {
	b := make([]byte, 48)
	b[0] = 4<<3 | mode
	if mode == 4 {
		b[1] = 2
		copy(b[12:], "GPS\x00")
	}
	binary.BigEndian.PutUint32(b[40:], 0xe9a1b2c3)
	return b
}

func httpGet(path string) []byte {
	return []byte("GET " + path + " HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: weir\r\nAccept: */*\r\n\r\n")
}

func httpResponse(bodyLen int) []byte {
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(bodyLen) + "\r\n\r\n"
	return append([]byte(head), filler(bodyLen, 'a')...)
}

// tlsAppData is one TLS 1.2 application-data record of n opaque bytes.
func tlsAppData(n int) []byte {
	b := []byte{23, 3, 3, byte(n >> 8), byte(n)}
	for i := 0; i < n; i++ {
		b = append(b, byte(i*73+11))
	}
	return b
}

func syslogLine(msg string) []byte { return []byte("<34>Mar  1 12:00:00 host1 weir: " + msg) }

func ssdpSearch() []byte {
	return []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n")
}

// vxlan wraps an Ethernet frame with VNI 42.
func vxlan(inner []byte) []byte {
	return append([]byte{0x08, 0, 0, 0, 0, 0, 42, 0}, inner...)
}

// filler is n bytes of printable text starting at c.
func filler(n int, c byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c + byte(i%26)
	}
	return b
}
