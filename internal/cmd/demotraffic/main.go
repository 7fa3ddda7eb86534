// Command demotraffic sends the small, fixed mix of traffic that `make
// demo` captures: ICMP echo requests, UDP to ports 53 and 5353 over IPv4
// and IPv6, and TCP connection attempts to port 80. It runs inside a
// throwaway network namespace, needs root for the ICMP socket, and sends
// only to the addresses it is given.
//
//	demotraffic -to4 198.18.0.2 -to6 fd00:beef::2
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// The mix, in the order it is sent.
const (
	echoes      = 3 // ICMP echo requests over IPv4
	dnsV4       = 3 // UDP to port 53 over IPv4
	mdnsV4      = 3 // UDP to port 5353 over IPv4
	dnsV6       = 2 // UDP to port 53 over IPv6
	tcpAttempts = 2 // TCP connections to port 80
	gap         = 20 * time.Millisecond
)

func main() {
	to4 := flag.String("to4", "", "IPv4 address to send to (198.18.0.0/15)")
	to6 := flag.String("to6", "", "IPv6 address to send to (fd00:beef::/64)")
	flag.Parse()
	if err := send(*to4, *to6); err != nil {
		fmt.Fprintln(os.Stderr, "demotraffic:", err)
		os.Exit(1)
	}
}

func send(to4, to6 string) error {
	v4, err := testAddress(to4, netip.MustParsePrefix("198.18.0.0/15"))
	if err != nil {
		return err
	}
	v6, err := testAddress(to6, netip.MustParsePrefix("fd00:beef::/64"))
	if err != nil {
		return err
	}
	replies, err := ping(v4, echoes)
	if err != nil {
		return err
	}
	for _, d := range []struct {
		to    netip.Addr
		port  uint16
		count int
	}{{v4, 53, dnsV4}, {v4, 5353, mdnsV4}, {v6, 53, dnsV6}} {
		if err := sendUDP(d.to, d.port, d.count); err != nil {
			return err
		}
	}
	refused := 0
	for i := 0; i < tcpAttempts; i++ {
		c, err := net.DialTimeout("tcp", netip.AddrPortFrom(v4, 80).String(), time.Second)
		if err == nil {
			c.Close()
		} else {
			refused++
		}
		time.Sleep(gap)
	}
	fmt.Printf("sent %d ICMP echo requests (%d replies), %d+%d UDP datagrams to %s ports 53 and 5353, %d to %s port 53, %d TCP connections to port 80 (%d refused)\n",
		echoes, replies, dnsV4, mdnsV4, v4, dnsV6, v6, tcpAttempts, refused)
	return nil
}

// testAddress parses s and makes sure it lies in the test range: this
// program must never send anywhere else.
func testAddress(s string, allowed netip.Prefix) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return a, fmt.Errorf("bad address %q: %w", s, err)
	}
	if !allowed.Contains(a) {
		return a, fmt.Errorf("%s is outside %s", a, allowed)
	}
	return a, nil
}

// ping sends count echo requests and counts the replies that come back
// within a second of the last one.
func ping(to netip.Addr, count int) (int, error) {
	c, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return 0, fmt.Errorf("icmp socket (run as root): %w", err)
	}
	defer c.Close()
	dst := &net.IPAddr{IP: to.AsSlice()}
	for seq := 1; seq <= count; seq++ {
		if _, err := c.WriteTo(echoRequest(0x7765, uint16(seq)), dst); err != nil {
			return 0, fmt.Errorf("ping %s: %w", to, err)
		}
		time.Sleep(gap)
	}
	replies := 0
	c.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 1500)
	for replies < count {
		n, _, err := c.ReadFrom(buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			return replies, err
		}
		if n >= 8 && buf[0] == 0 { // echo reply
			replies++
		}
	}
	return replies, nil
}

// echoRequest is an ICMP echo request with a 16-byte payload.
func echoRequest(id, seq uint16) []byte {
	b := make([]byte, 8+16)
	b[0] = 8
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], "weir demo ping..")
	binary.BigEndian.PutUint16(b[2:], checksum(b))
	return b
}

func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// sendUDP sends from an unconnected socket, so the port-unreachable
// errors that come back do not fail the later sends.
func sendUDP(to netip.Addr, port uint16, count int) error {
	network := "udp4"
	if to.Is6() {
		network = "udp6"
	}
	c, err := net.ListenUDP(network, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	dst := net.UDPAddrFromAddrPort(netip.AddrPortFrom(to, port))
	for i := 0; i < count; i++ {
		if _, err := c.WriteToUDP(dnsQuery(uint16(i+1)), dst); err != nil {
			return fmt.Errorf("udp to %s port %d: %w", to, port, err)
		}
		time.Sleep(gap)
	}
	return nil
}

// dnsQuery asks for the A record of weir.test (a reserved name).
func dnsQuery(id uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, 0x0100) // recursion desired
	b = binary.BigEndian.AppendUint16(b, 1)      // one question
	b = append(b, 0, 0, 0, 0, 0, 0)
	b = append(b, "\x04weir\x04test\x00"...)
	b = binary.BigEndian.AppendUint16(b, 1)    // type A
	return binary.BigEndian.AppendUint16(b, 1) // class IN
}
