package main

import (
	"fmt"
	"net/netip"
)

var addr = netip.MustParseAddr

// Addresses the catalog talks about; expressions in the differential test
// name them.
var (
	client   = addr("198.18.0.10")
	client2  = addr("198.18.1.20")
	client3  = addr("198.19.5.5")
	server   = addr("198.19.200.1")
	server2  = addr("198.19.200.2")
	router   = addr("198.18.0.1")
	resolver = addr("198.19.0.53")
	bcast15  = addr("198.19.255.255") // directed broadcast of 198.18.0.0/15
	limited  = addr("255.255.255.255")
	any4     = addr("0.0.0.0")

	client6  = addr("fd00:beef::1")
	server6  = addr("fd00:beef::101")
	peer6    = addr("fd00:beef::2")
	dns6     = addr("fd00:beef::53")
	remote6  = addr("2001:db8::1")
	linkA6   = addr("fe80::1")
	linkB6   = addr("fe80::2")
	allNodes = addr("ff02::1")
)

// ipFrame wraps an IPv4 or IPv6 packet, with MACs derived from its
// addresses.
func ipFrame(desc string, pkt []byte) frame {
	var src, dst netip.Addr
	etherType := uint16(etherTypeIPv4)
	if pkt[0]>>4 == 6 {
		etherType = etherTypeIPv6
		src = netip.AddrFrom16([16]byte(pkt[8:24]))
		dst = netip.AddrFrom16([16]byte(pkt[24:40]))
	} else {
		src = netip.AddrFrom4([4]byte(pkt[12:16]))
		dst = netip.AddrFrom4([4]byte(pkt[16:20]))
	}
	return frame{desc: desc, etherType: etherType, payload: pkt, src: macFor(src), dst: macFor(dst)}
}

func v4(desc string, h ip4, seg segment) frame { return ipFrame(desc, h.packet(seg)) }

func v6(desc string, h ip6, seg segment) frame { return ipFrame(desc, h.packet(seg)) }

// catalog is every packet of the small captures, in order.
func catalog() []frame {
	var c []frame
	for _, section := range []func() []frame{
		tcpPorts, tcpFlags, tcpOther, udpServices, icmpMessages, icmp6Messages,
		otherProtocols, ipOptions, fragments4, ipv6Headers, ipv6Traffic,
		truncated, sizes, linkLayer,
	} {
		c = append(c, section()...)
	}
	return c
}

// tcpPorts is a short exchange on each well-known port: SYN, SYN-ACK,
// data, FIN.
func tcpPorts() []frame {
	var c []frame
	payloads := map[uint16][]byte{
		20:   filler(200, 'A'),
		21:   []byte("USER anonymous\r\n"),
		22:   []byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
		23:   []byte("login: "),
		25:   []byte("EHLO mail.example.com\r\n"),
		53:   append([]byte{0, 29}, dnsQuery(0x1234, "www.example.com", 1)...),
		80:   httpGet("/index.html"),
		443:  tlsAppData(517),
		8080: httpGet("/api/v1/status"),
	}
	for i, port := range []uint16{20, 21, 22, 23, 25, 53, 80, 443, 8080} {
		sport := uint16(40000 + i*7)
		cl, sv := ip4{src: client, dst: server, df: true}, ip4{src: server, dst: client, df: true}
		name := fmt.Sprintf("TCP %d", port)
		c = append(c,
			v4(name+" SYN", cl, tcpOpts(sport, port, syn, 1000, synOptions, nil)),
			v4(name+" SYN-ACK", sv, tcpOpts(port, sport, syn|ack, 2000, synOptions, nil)),
			v4(name+" data, client to server", cl, tcp(sport, port, psh|ack, payloads[port])),
			v4(name+" FIN-ACK, server to client", sv, tcp(port, sport, fin|ack, nil)),
		)
	}
	return c
}

// tcpFlags has every flag combination that filters look for, on high ports.
func tcpFlags() []frame {
	combos := []struct {
		name  string
		flags uint8
	}{
		{"no flags", 0}, {"FIN", fin}, {"SYN", syn}, {"RST", rst}, {"PSH", psh}, {"ACK", ack},
		{"URG", urg}, {"SYN-ACK", syn | ack}, {"RST-ACK", rst | ack}, {"FIN-ACK", fin | ack},
		{"PSH-ACK", psh | ack}, {"FIN-PSH-ACK", fin | psh | ack}, {"URG-ACK", urg | ack},
		{"FIN-PSH-URG (xmas)", fin | psh | urg}, {"SYN-FIN", syn | fin}, {"SYN-RST", syn | rst},
		{"SYN-ECE-CWR", syn | ece | cwr}, {"SYN-ACK-ECE", syn | ack | ece}, {"ACK-ECE", ack | ece},
		{"ACK-CWR", ack | cwr}, {"all flags", 0xff},
	}
	ports := [][2]uint16{
		{50000, 60000}, {1024, 1025}, {1023, 3306}, {5432, 49152}, {65535, 6000}, {8443, 51515},
		{0, 9000}, {33000, 7000},
	}
	var c []frame
	for i, combo := range combos {
		p := ports[i%len(ports)]
		h := ip4{src: client2, dst: server2}
		if i%2 == 1 {
			h = ip4{src: server2, dst: client2}
		}
		c = append(c, v4(fmt.Sprintf("TCP %s, %d to %d", combo.name, p[0], p[1]), h, tcp(p[0], p[1], combo.flags, nil)))
	}
	return c
}

// tcpOther is TCP among the other networks the expressions name.
func tcpOther() []frame {
	return []frame{
		v4("TCP 10.1.2.3 to 10.0.0.1:22 SYN", ip4{src: addr("10.1.2.3"), dst: addr("10.0.0.1")}, tcpOpts(51000, 22, syn, 7, synOptions, nil)),
		v4("TCP 10.0.0.1:22 to 10.1.2.3 data", ip4{src: addr("10.0.0.1"), dst: addr("10.1.2.3")}, tcp(22, 51000, psh|ack, filler(64, 'a'))),
		v4("TCP 192.168.1.10 to 192.168.1.1:80 SYN", ip4{src: addr("192.168.1.10"), dst: addr("192.168.1.1")}, tcp(52000, 80, syn, nil)),
		v4("TCP 172.16.5.4 to 8.8.8.8:443 ACK", ip4{src: addr("172.16.5.4"), dst: addr("8.8.8.8")}, tcp(53000, 443, ack, nil)),
		v4("TCP 198.17.255.254 to 198.20.0.1:80 SYN (outside 198.18.0.0/15)", ip4{src: addr("198.17.255.254"), dst: addr("198.20.0.1")}, tcp(54000, 80, syn, nil)),
		v4("TCP 198.18.255.255 to 198.19.0.0:8080 ACK", ip4{src: addr("198.18.255.255"), dst: addr("198.19.0.0")}, tcp(54001, 8080, ack, nil)),
		v4("TCP 198.19.5.5 to 198.18.0.10 port 80 to 80", ip4{src: client3, dst: client}, tcp(80, 80, ack, nil)),
		v4("TCP 198.18.0.10:2000 to 198.19.200.1:2100 (portrange 2000-2100)", ip4{src: client, dst: server}, tcp(2000, 2100, ack, nil)),
	}
}

func udpServices() []frame {
	dhcpClient := mac{0x02, 0x00, 0xde, 0xad, 0xbe, 0xef}
	inner := ipFrame("", ip4{src: addr("10.200.0.1"), dst: addr("10.200.0.2")}.packet(icmpEcho(8, 7, 1, 16)))
	innerEther := append(append(append([]byte(nil), inner.dst[:]...), inner.src[:]...), 0x08, 0x00)
	innerEther = append(innerEther, inner.payload...)
	return []frame{
		v4("UDP DNS query to 198.19.0.53", ip4{src: client, dst: resolver}, udp(53001, 53, dnsQuery(0x0101, "example.com", 1))),
		v4("UDP DNS response from 198.19.0.53", ip4{src: resolver, dst: client}, udp(53, 53001, dnsResponse(0x0101, "example.com", [4]byte{198, 19, 200, 1}))),
		v4("UDP DNS query 172.16.5.4 to 8.8.8.8", ip4{src: addr("172.16.5.4"), dst: addr("8.8.8.8")}, udp(53002, 53, dnsQuery(0x0202, "example.org", 28))),
		v4("UDP DNS query 192.168.1.10 to 192.168.1.1", ip4{src: addr("192.168.1.10"), dst: addr("192.168.1.1")}, udp(53003, 53, dnsQuery(0x0303, "router.lan", 1))),
		v4("UDP DHCP discover 0.0.0.0:68 to 255.255.255.255:67", ip4{src: any4, dst: limited}, udp(68, 67, dhcp(1, 0xabcdef01, dhcpClient, 1))).macs(dhcpClient, macBroadcast),
		v4("UDP DHCP offer 192.168.0.1:67 to 255.255.255.255:68", ip4{src: addr("192.168.0.1"), dst: limited}, udp(67, 68, dhcp(2, 0xabcdef01, dhcpClient, 2))),
		v4("UDP DHCP request 0.0.0.0 to 255.255.255.255", ip4{src: any4, dst: limited}, udp(68, 67, dhcp(1, 0xabcdef01, dhcpClient, 3))).macs(dhcpClient, macBroadcast),
		v4("UDP NTP request", ip4{src: client, dst: server}, udp(123, 123, ntp(3))),
		v4("UDP NTP reply", ip4{src: server, dst: client}, udp(123, 123, ntp(4))),
		v4("UDP mDNS query to 224.0.0.251", ip4{src: client, dst: addr("224.0.0.251"), ttl: 255}, udp(5353, 5353, dnsQuery(0, "printer.local", 1))),
		v4("UDP SSDP to 239.255.255.250:1900", ip4{src: client2, dst: addr("239.255.255.250"), ttl: 4}, udp(51900, 1900, ssdpSearch())),
		v4("UDP syslog to 198.19.200.2:514", ip4{src: client, dst: server2}, udp(51514, 514, syslogLine("link up"))),
		v4("UDP VXLAN 4789 carrying ICMP", ip4{src: client, dst: server2}, udp(49999, 4789, vxlan(innerEther))),
		v4("UDP 443 (QUIC short header)", ip4{src: client, dst: server}, udp(55443, 443, append([]byte{0x40}, filler(99, 'Q')...))),
		v4("UDP discard to 198.19.255.255 (directed broadcast)", ip4{src: client, dst: bcast15}, udp(50009, 9, filler(20, 'b'))),
		v4("UDP discard to 255.255.255.255", ip4{src: client, dst: limited}, udp(50009, 9, filler(21, 'c'))),
		v4("UDP 1-byte payload, 40001 to 40002", ip4{src: client2, dst: server2}, udp(40001, 40002, []byte{'x'})),
		v4("UDP 3-byte payload, 40002 to 40001", ip4{src: server2, dst: client2}, udp(40002, 40001, []byte("xyz"))),
		v4("UDP empty payload, 65535 to 1", ip4{src: client2, dst: server2}, udp(65535, 1, nil)),
		v4("UDP 10.0.0.1:9 to 10.255.255.255:9", ip4{src: addr("10.0.0.1"), dst: addr("10.255.255.255")}, udp(9, 9, filler(7, 'd'))).macs(macFor(addr("10.0.0.1")), macBroadcast),
	}
}

func icmpMessages() []frame {
	quoteUDP := ip4{src: client, dst: server}.packet(udp(53001, 33434, nil))[:28]
	quoteTCP := ip4{src: client, dst: server, df: true}.packet(tcp(40000, 80, syn, nil))[:28]
	gw := addr("198.18.0.254").As4()
	return []frame{
		v4("ICMP echo request", ip4{src: client, dst: server}, icmpEcho(8, 0x77, 1, 56)),
		v4("ICMP echo reply", ip4{src: server, dst: client}, icmpEcho(0, 0x77, 1, 56)),
		v4("ICMP echo request to 8.8.8.8", ip4{src: addr("192.168.1.10"), dst: addr("8.8.8.8")}, icmpEcho(8, 0x78, 2, 32)),
		v4("ICMP echo request to 198.19.255.255", ip4{src: client, dst: bcast15}, icmpEcho(8, 0x79, 3, 56)),
		v4("ICMP echo request, 1514-byte frame", ip4{src: client, dst: server}, icmpEcho(8, 0x7a, 4, 1472)),
		v4("ICMP port unreachable", ip4{src: server, dst: client}, icmpError(3, 3, quoteUDP)),
		v4("ICMP host unreachable from router", ip4{src: router, dst: client}, icmpError(3, 1, quoteTCP)),
		v4("ICMP fragmentation needed", ip4{src: router, dst: client}, icmp(3, 4, append([]byte{0, 0, 0x05, 0xdc}, quoteTCP...))),
		v4("ICMP time exceeded", ip4{src: router, dst: client}, icmpError(11, 0, quoteUDP)),
		v4("ICMP redirect", ip4{src: router, dst: client}, icmp(5, 1, append(gw[:], quoteTCP...))),
		v4("ICMP source quench", ip4{src: router, dst: client}, icmpError(4, 0, quoteTCP)),
		v4("ICMP parameter problem", ip4{src: server, dst: client}, icmp(12, 0, append([]byte{20, 0, 0, 0}, quoteTCP...))),
		v4("ICMP timestamp request", ip4{src: client, dst: server}, icmp(13, 0, append([]byte{0, 1, 0, 1}, make([]byte, 12)...))),
		v4("ICMP timestamp reply", ip4{src: server, dst: client}, icmp(14, 0, append([]byte{0, 1, 0, 1}, make([]byte, 12)...))),
		v4("ICMP router solicitation", ip4{src: client, dst: addr("224.0.0.2"), ttl: 1}, icmp(10, 0, make([]byte, 4))),
		v4("ICMP router advertisement", ip4{src: router, dst: addr("224.0.0.1"), ttl: 1}, icmp(9, 0, []byte{1, 2, 0x07, 0x08, 198, 18, 0, 1, 0, 0, 0, 0})),
		v4("ICMP address mask request", ip4{src: client, dst: router}, icmp(17, 0, []byte{0, 2, 0, 1, 0, 0, 0, 0})),
		v4("ICMP address mask reply", ip4{src: router, dst: client}, icmp(18, 0, []byte{0, 2, 0, 1, 255, 254, 0, 0})),
		v4("ICMP information request", ip4{src: client, dst: router}, icmp(15, 0, []byte{0, 3, 0, 1})),
	}
}

func icmp6Messages() []frame {
	solicited := addr("ff02::1:ff00:2")
	target := peer6.As16()
	nsBody := append(make([]byte, 4), target[:]...)
	nsBody = append(nsBody, 1, 1, 0x02, 0x00, 0, 0, 0, 1) // source link-layer address option
	naBody := append([]byte{0x60, 0, 0, 0}, target[:]...)
	naBody = append(naBody, 2, 1, 0x02, 0x00, 0, 0, 0, 2) // target link-layer address option
	raBody := []byte{64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0}
	prefix := addr("fd00:beef::").As16()
	raBody = append(raBody, 3, 4, 64, 0xc0, 0, 0x27, 0x8d, 0, 0, 0x09, 0x3a, 0x80, 0, 0, 0, 0)
	raBody = append(raBody, prefix[:]...)
	group := addr("ff02::fb").As16()
	mld := append([]byte{0, 0, 0, 0}, group[:]...)
	mldQuery := append([]byte{0x27, 0x10, 0, 0}, make([]byte, 16)...)
	mld2 := []byte{0, 0, 0, 1, 4, 0, 0, 0}
	mld2 = append(mld2, group[:]...)
	redirectTarget := addr("fe80::99").As16()
	redirect := append(make([]byte, 4), redirectTarget[:]...)
	redirect = append(redirect, target[:]...)
	quote := ip6{src: client6, dst: server6}.packet(udp(53001, 33434, nil))[:48]
	hbh := []ext6{extHopByHop}
	return []frame{
		v6("ICMPv6 echo request", ip6{src: client6, dst: peer6}, icmp6Echo(128, 0x99, 1, 56)),
		v6("ICMPv6 echo reply", ip6{src: peer6, dst: client6}, icmp6Echo(129, 0x99, 1, 56)),
		v6("ICMPv6 echo request to ff02::1", ip6{src: linkA6, dst: allNodes, hopLimit: 1}, icmp6Echo(128, 0x9a, 2, 8)),
		v6("ICMPv6 echo request to 2001:db8::1", ip6{src: client6, dst: remote6}, icmp6Echo(128, 0x9b, 3, 32)),
		v6("ICMPv6 neighbor solicitation", ip6{src: client6, dst: solicited, hopLimit: 255}, icmp6(135, 0, nsBody)),
		v6("ICMPv6 neighbor advertisement", ip6{src: peer6, dst: client6, hopLimit: 255}, icmp6(136, 0, naBody)),
		v6("ICMPv6 router solicitation", ip6{src: linkB6, dst: addr("ff02::2"), hopLimit: 255}, icmp6(133, 0, make([]byte, 4))),
		v6("ICMPv6 router advertisement", ip6{src: linkA6, dst: allNodes, hopLimit: 255}, icmp6(134, 0, raBody)),
		v6("ICMPv6 redirect", ip6{src: linkA6, dst: client6, hopLimit: 255}, icmp6(137, 0, redirect)),
		v6("ICMPv6 MLD query after hop-by-hop", ip6{src: linkA6, dst: allNodes, hopLimit: 1, ext: hbh}, icmp6(130, 0, mldQuery)),
		v6("ICMPv6 MLD report after hop-by-hop", ip6{src: linkB6, dst: addr("ff02::fb"), hopLimit: 1, ext: hbh}, icmp6(131, 0, mld)),
		v6("ICMPv6 MLD done after hop-by-hop", ip6{src: linkB6, dst: addr("ff02::2"), hopLimit: 1, ext: hbh}, icmp6(132, 0, mld)),
		v6("ICMPv6 MLDv2 report after hop-by-hop", ip6{src: linkB6, dst: addr("ff02::16"), hopLimit: 1, ext: hbh}, icmp6(143, 0, mld2)),
		v6("ICMPv6 MLD report without hop-by-hop", ip6{src: linkB6, dst: addr("ff02::fb"), hopLimit: 1}, icmp6(131, 0, mld)),
		v6("ICMPv6 destination unreachable", ip6{src: server6, dst: client6}, icmp6(1, 4, append(make([]byte, 4), quote...))),
		v6("ICMPv6 packet too big", ip6{src: addr("fd00:beef::fe"), dst: client6}, icmp6(2, 0, append([]byte{0, 0, 0x05, 0x00}, quote...))),
		v6("ICMPv6 time exceeded", ip6{src: addr("fd00:beef::fe"), dst: client6}, icmp6(3, 0, append(make([]byte, 4), quote...))),
		v6("ICMPv6 parameter problem", ip6{src: server6, dst: client6}, icmp6(4, 1, append([]byte{0, 0, 0, 40}, quote...))),
	}
}

func otherProtocols() []frame {
	innerICMP := ip4{src: addr("10.0.0.1"), dst: addr("10.0.0.2")}.packet(icmpEcho(8, 0x42, 1, 24))
	inner4 := ip4{src: client, dst: server}.packet(tcp(40100, 80, syn, nil))
	inner6 := ip6{src: client6, dst: remote6}.packet(udp(53010, 53, dnsQuery(0x4444, "example.net", 28)))
	return []frame{
		v4("SCTP INIT 5001 to 5002", ip4{src: client, dst: server}, sctp(5001, 5002, 1, sctpInit())),
		v4("SCTP DATA 5002 to 5001", ip4{src: server, dst: client}, sctp(5002, 5001, 0, sctpData(filler(20, 'S')))),
		v4("SCTP INIT to port 80", ip4{src: client2, dst: server}, sctp(80, 80, 1, sctpInit())),
		v6("SCTP INIT over IPv6", ip6{src: client6, dst: server6}, sctp(5001, 5002, 1, sctpInit())),
		v4("IGMPv2 report for 239.1.2.3 with router alert", ip4{src: client, dst: addr("239.1.2.3"), ttl: 1, options: optRouterAlert}, igmp(0x16, 0, addr("239.1.2.3"))),
		v4("IGMP general query to 224.0.0.1", ip4{src: router, dst: addr("224.0.0.1"), ttl: 1, options: optRouterAlert}, igmp(0x11, 100, any4)),
		v4("IGMPv2 leave to 224.0.0.2", ip4{src: client, dst: addr("224.0.0.2"), ttl: 1, options: optRouterAlert}, igmp(0x17, 0, addr("239.1.2.3"))),
		v4("IGMPv1 report for 224.0.1.1", ip4{src: client2, dst: addr("224.0.1.1"), ttl: 1}, igmp(0x12, 0, addr("224.0.1.1"))),
		v4("PIM hello to 224.0.0.13", ip4{src: router, dst: addr("224.0.0.13"), ttl: 1}, pimHello()),
		v4("VRRP advertisement to 224.0.0.18", ip4{src: addr("198.18.0.2"), dst: addr("224.0.0.18"), ttl: 255}, vrrp(1, router)),
		v4("AH carrying TCP port 80", ip4{src: client, dst: server}, ah(0x1000, tcp(40200, 80, syn, nil))),
		v4("ESP", ip4{src: client, dst: addr("198.19.200.9")}, esp(0x2000, 1, 64)),
		v6("ESP over IPv6", ip6{src: client6, dst: server6}, esp(0x2001, 1, 48)),
		v6("AH over IPv6 carrying UDP 53", ip6{src: client6, dst: dns6}, ah(0x1001, udp(53020, 53, dnsQuery(0x5555, "example.com", 1)))),
		v4("GRE carrying IPv4 ICMP", ip4{src: client, dst: addr("198.19.100.1")}, gre(etherTypeIPv4, innerICMP)),
		v6("IPv4-in-IPv6 carrying TCP 80", ip6{src: client6, dst: peer6}, raw(protoIPIP, inner4)),
		v4("IPv6-in-IPv4 carrying UDP 53", ip4{src: client, dst: addr("192.168.1.1")}, raw(protoIPv6, inner6)),
		v4("IPv4-in-IPv4 carrying ICMP", ip4{src: addr("10.0.0.1"), dst: addr("10.0.0.2")}, raw(protoIPIP, innerICMP)),
		v4("IP protocol 253 (experimental)", ip4{src: client, dst: server}, raw(253, filler(30, 'e'))),
		v6("IPv6 next header 59 (no next header)", ip6{src: client6, dst: peer6}, raw(protoNoNext, nil)),
		v6("IPv6 next header 253 (experimental)", ip6{src: client6, dst: peer6}, raw(253, filler(12, 'f'))),
	}
}

// ipOptions puts transport headers behind IPv4 options, so a filter that
// assumes a 20-byte IP header reads the wrong bytes.
func ipOptions() []frame {
	return []frame{
		v4("TCP 80 SYN after record-route option (IHL 8)", ip4{src: client, dst: server, options: optRecordRoute}, tcp(40300, 80, syn, nil)),
		v4("UDP 53 after timestamp option (IHL 8)", ip4{src: client, dst: resolver, options: optTimestamp}, udp(53030, 53, dnsQuery(0x6666, "example.com", 1))),
		v4("TCP 22 ACK after 40 bytes of options (IHL 15)", ip4{src: server, dst: client, options: optMaxLength}, tcp(22, 40301, ack, nil)),
		v4("ICMP echo after NOP options (IHL 7)", ip4{src: client, dst: server, options: optNOPs}, icmpEcho(8, 0x55, 1, 16)),
		v4("TCP 443 RST after router alert (IHL 6)", ip4{src: client2, dst: server, options: optRouterAlert}, tcp(40302, 443, rst, nil)),
	}
}

// fragments4 holds first and later fragments; the later ones carry bytes
// that would match port 53 or 80 if read as ports.
func fragments4() []frame {
	var c []frame
	body := dnsTXTResponse(0xf1, 1192)
	for _, off := range []int{512 - 8, 1024 - 8} { // "ports" of the later fragments: 53 and 53
		copy(body[off:], []byte{0, 53, 0, 53})
	}
	for i, p := range (ip4{src: client, dst: resolver, id: 0x7001}).fragments(udp(53040, 53, body), 512, 1024) {
		c = append(c, ipFrame(fmt.Sprintf("IPv4 fragment %d/3 of UDP 53040 to 53", i+1), p))
	}
	data := filler(100, 'T')
	copy(data[4:], []byte{0, 80, 0, 80}) // the third fragment starts at TCP byte 24
	for i, p := range (ip4{src: client2, dst: server, id: 0x7002}).fragments(tcp(40400, 80, psh|ack, data), 8, 24) {
		c = append(c, ipFrame(fmt.Sprintf("IPv4 fragment %d/3 of TCP 40400 to 80 (8-byte first fragment)", i+1), p))
	}
	for i, p := range (ip4{src: client, dst: server, id: 0x7003}).fragments(icmpEcho(8, 0x56, 1, 2992), 1480, 2960) {
		c = append(c, ipFrame(fmt.Sprintf("IPv4 fragment %d/3 of ICMP echo", i+1), p))
	}
	return c
}

// ipv6Headers puts extension headers before TCP, UDP and ICMPv6.
func ipv6Headers() []frame {
	var c []frame
	c = append(c,
		v6("IPv6 hop-by-hop then TCP 80 SYN", ip6{src: client6, dst: server6, ext: []ext6{extHopByHopPad}}, tcp(41000, 80, syn, nil)),
		v6("IPv6 destination options then UDP 53", ip6{src: client6, dst: dns6, ext: []ext6{extDstOpts}}, udp(53050, 53, dnsQuery(0x7777, "example.com", 28))),
		v6("IPv6 routing header then TCP 443 ACK", ip6{src: client6, dst: server6, ext: []ext6{extRouting}}, tcp(41001, 443, ack, nil)),
		v6("IPv6 hop-by-hop, destination options, then UDP 123", ip6{src: client6, dst: server6, ext: []ext6{extHopByHopPad, extDstOpts}}, udp(123, 123, ntp(3))),
		v6("IPv6 hop-by-hop then ICMPv6 echo request", ip6{src: client6, dst: peer6, ext: []ext6{extHopByHopPad}}, icmp6Echo(128, 0x9c, 1, 8)),
	)
	atomic := ip6{src: client6, dst: server6}.fragments(0x100, tcp(41002, 22, syn, nil))
	c = append(c, ipFrame("IPv6 atomic fragment then TCP 22 SYN", atomic[0]))
	var body []byte
	body = dnsTXTResponse(0xf2, 1600)
	copy(body[1448-8:], []byte{0, 53, 0, 53})
	for i, p := range (ip6{src: client6, dst: dns6}).fragments(0x101, udp(53051, 53, body), 1448) {
		c = append(c, ipFrame(fmt.Sprintf("IPv6 fragment %d/2 of UDP 53051 to 53", i+1), p))
	}
	for i, p := range (ip6{src: client6, dst: server6, ext: []ext6{extHopByHopPad}}).fragments(0x102, tcp(41003, 80, psh|ack, filler(200, 'H')), 96) {
		c = append(c, ipFrame(fmt.Sprintf("IPv6 hop-by-hop then fragment %d/2 of TCP 41003 to 80", i+1), p))
	}
	return c
}

func ipv6Traffic() []frame {
	dhcp6 := []byte{1, 0x12, 0x34, 0x56, 0, 8, 0, 2, 0, 0} // SOLICIT, elapsed time option
	return []frame{
		v6("IPv6 TCP 80 SYN", ip6{src: client6, dst: server6}, tcpOpts(42000, 80, syn, 1, synOptions, nil)),
		v6("IPv6 TCP 80 SYN-ACK", ip6{src: server6, dst: client6}, tcpOpts(80, 42000, syn|ack, 2, synOptions, nil)),
		v6("IPv6 TCP 80 data", ip6{src: client6, dst: server6}, tcp(42000, 80, psh|ack, httpGet("/v6"))),
		v6("IPv6 TCP 443 FIN-ACK", ip6{src: server6, dst: client6}, tcp(443, 42001, fin|ack, nil)),
		v6("IPv6 TCP 22 RST", ip6{src: peer6, dst: client6}, tcp(22, 42002, rst|ack, nil)),
		v6("IPv6 TCP 2001:db8::1 to 8080", ip6{src: remote6, dst: peer6}, tcp(42003, 8080, syn, nil)),
		v6("IPv6 UDP DNS query", ip6{src: client6, dst: dns6}, udp(53060, 53, dnsQuery(0x8888, "example.com", 28))),
		v6("IPv6 UDP DNS response", ip6{src: dns6, dst: client6}, udp(53, 53060, dnsResponse(0x8888, "example.com", [4]byte{198, 19, 200, 1}))),
		v6("IPv6 mDNS to ff02::fb", ip6{src: linkA6, dst: addr("ff02::fb"), hopLimit: 255}, udp(5353, 5353, dnsQuery(0, "printer.local", 28))),
		v6("IPv6 DHCPv6 solicit to ff02::1:2", ip6{src: linkB6, dst: addr("ff02::1:2"), hopLimit: 1}, udp(546, 547, dhcp6)),
		v6("IPv6 UDP fe80::1 to fe80::2 port 5000", ip6{src: linkA6, dst: linkB6}, udp(5000, 5000, filler(33, 'u'))),
		v6("IPv6 TCP 10.0.0.1-mapped ::ffff:10.0.0.1 to 8080", ip6{src: addr("::ffff:10.0.0.1"), dst: server6}, tcp(42004, 8080, ack, nil)),
	}
}

// truncated packets were captured with a snap length that cut them.
func truncated() []frame {
	tcp80 := v4("", ip4{src: client, dst: server}, tcp(43000, 80, syn, nil))
	udp53 := v4("", ip4{src: client, dst: resolver}, udp(53070, 53, dnsQuery(0x9999, "example.com", 1)))
	tcp6 := v6("", ip6{src: client6, dst: server6}, tcp(43001, 80, syn, nil))
	return []frame{
		tcp80.truncate(10).describe("TCP 80 SYN cut inside the IPv4 header (10 bytes)"),
		tcp80.truncate(24).describe("TCP 80 SYN cut after the ports (IP + 4 bytes)"),
		tcp80.truncate(33).describe("TCP 80 SYN cut before the flags (IP + 13 bytes)"),
		tcp80.truncate(34).describe("TCP 80 SYN cut after the flags (IP + 14 bytes)"),
		udp53.truncate(23).describe("UDP 53 cut inside the destination port"),
		v4("", ip4{src: client, dst: server}, icmpEcho(8, 0x57, 1, 56)).truncate(20).describe("ICMP echo cut after the IPv4 header"),
		tcp6.truncate(30).describe("IPv6 TCP 80 SYN cut inside the IPv6 header"),
		tcp6.truncate(53).describe("IPv6 TCP 80 SYN cut before the flags"),
		v4("", ip4{src: client, dst: server}, tcp(43002, 443, psh|ack, tlsAppData(1400))).truncate(96).describe("TCP 443 1454-byte packet cut at 96 bytes"),
	}
}

func sizes() []frame {
	return []frame{
		v4("TCP 443 full-size segment (1514-byte frame)", ip4{src: server, dst: client, df: true}, tcp(443, 44000, ack, tlsAppData(1455))),
		v4("TCP 443 999-byte payload", ip4{src: server, dst: client, df: true}, tcp(443, 44000, psh|ack, tlsAppData(994))),
		v4("TCP 80 777-byte payload", ip4{src: server, dst: client}, tcp(80, 44001, psh|ack, httpResponse(700))),
		v4("TCP 8080 1-byte payload", ip4{src: client, dst: server}, tcp(44002, 8080, psh|ack, []byte{'!'})),
		v4("TCP 443 jumbo segment (9000-byte IP packet)", ip4{src: server, dst: client, df: true}, tcp(443, 44003, ack, tlsAppData(8955))),
		v4("UDP 5000 511-byte payload", ip4{src: client2, dst: server2}, udp(5000, 5001, filler(511, 'z'))),
		v6("IPv6 UDP 5000 1452-byte payload (1514-byte frame)", ip6{src: client6, dst: peer6}, udp(5000, 5001, filler(1452, 'y'))),
	}
}

// linkLayer holds frames that only exist below IP (ARP, RARP, 802.3 LLC),
// VLAN-tagged frames, and IP frames with unusual destination MACs.
func linkLayer() []frame {
	cm, rm := macFor(client), macFor(router)
	arpFrame := func(desc string, etherType uint16, body []byte, src, dst mac) frame {
		return frame{desc: desc, etherType: etherType, payload: body, src: src, dst: dst}
	}
	llcFrame := func(desc string, body []byte, dst mac) frame {
		return frame{desc: desc, payload: body, src: cm, dst: dst}
	}
	bpdu := []byte{0x42, 0x42, 0x03, // LLC
		0, 0, 0, 0, 0, // protocol, version, config BPDU, flags
		0x80, 0, 0x02, 0, 0, 0, 0, 0x01, 0, 0, 0, 4, // root, cost
		0x80, 0, 0x02, 0, 0, 0, 0, 0x02, 0x80, 0x01, // bridge, port
		0, 0, 0x14, 0, 0x02, 0, 0x0f, 0} // message age, max age, hello, forward delay
	ipx := []byte{0xe0, 0xe0, 0x03, // LLC
		0xff, 0xff, 0, 34, 0, 4, // checksum, length, transport control, type
		0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x40, 0x05, // destination
		0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0x01, 0x40, 0x06, // source
		'p', 'i', 'n', 'g'}
	snapIP := append([]byte{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00},
		ip4{src: client, dst: server}.packet(icmpEcho(8, 0x58, 1, 8))...)
	tcpVLAN := v4("", ip4{src: client, dst: server}, tcp(45000, 80, syn, nil))
	udpVLAN := v6("", ip6{src: client6, dst: dns6}, udp(53080, 53, dnsQuery(0xaaaa, "example.com", 28)))
	return []frame{
		arpFrame("ARP request who-has 198.18.0.1", etherTypeARP, arp(1, cm, client, macZero, router), cm, macBroadcast),
		arpFrame("ARP reply 198.18.0.1 is-at", etherTypeARP, arp(2, rm, router, cm, client), rm, cm),
		arpFrame("ARP gratuitous for 198.18.0.10", etherTypeARP, arp(1, cm, client, macZero, client), cm, macBroadcast),
		arpFrame("ARP probe from 0.0.0.0", etherTypeARP, arp(1, cm, any4, macZero, client2), cm, macBroadcast),
		arpFrame("ARP request 10.0.0.2 who-has 10.0.0.1", etherTypeARP, arp(1, macFor(addr("10.0.0.2")), addr("10.0.0.2"), macZero, addr("10.0.0.1")), macFor(addr("10.0.0.2")), macBroadcast),
		arpFrame("RARP request", etherTypeRARP, arp(3, cm, any4, cm, any4), cm, macBroadcast),
		arpFrame("RARP reply", etherTypeRARP, arp(4, rm, router, cm, client), rm, cm),
		llcFrame("802.3 LLC spanning-tree BPDU", bpdu, macSTP),
		llcFrame("802.3 LLC IPX", ipx, macBroadcast),
		llcFrame("802.3 LLC SNAP carrying IPv4 ICMP", snapIP, macFor(server)),
		llcFrame("802.3 LLC TEST to the null SAP", append([]byte{0x00, 0x01, 0xf3}, filler(43, 'L')...), rm),
		tcpVLAN.vlan(100).describe("802.1Q VLAN 100 tagged TCP 80 SYN"),
		arpFrame("", etherTypeARP, arp(1, cm, client, macZero, router), cm, macBroadcast).vlan(0x2000 | 200).describe("802.1Q VLAN 200 priority 1 tagged ARP request"),
		udpVLAN.vlan(300).describe("802.1Q VLAN 300 tagged IPv6 UDP 53"),
		v4("IPv4 TCP 80 unicast sent to the broadcast MAC", ip4{src: client, dst: server}, tcp(45001, 80, ack, nil)).macs(cm, macBroadcast),
		v4("IPv4 UDP unicast sent to a multicast MAC", ip4{src: client, dst: server}, udp(45002, 9, nil)).macs(cm, mac{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}),
		v4("IPv4 UDP to 224.0.0.251 sent to the broadcast MAC", ip4{src: client, dst: addr("224.0.0.251")}, udp(5353, 5353, dnsQuery(0, "x.local", 1))).macs(cm, macBroadcast),
	}
}
