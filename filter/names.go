package filter

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

// The service and protocol tables are embedded so that what an expression
// means does not depend on the machine's /etc/services or /etc/protocols.
// They are Debian netbase 6.4's files (the IANA registries), comments
// stripped; tcpdump on Debian reads the same data.

//go:embed names/services.txt
var servicesText string

//go:embed names/protocols.txt
var protocolsText string

// IP protocol numbers used by the generator.
const (
	ipprotoHopopts  = 0
	ipprotoICMP     = 1
	ipprotoIGMP     = 2
	ipprotoTCP      = 6
	ipprotoUDP      = 17
	ipprotoRouting  = 43
	ipprotoFragment = 44
	ipprotoESP      = 50
	ipprotoAH       = 51
	ipprotoICMPv6   = 58
	ipprotoNone     = 59
	ipprotoDstopts  = 60
	ipprotoPIM      = 103
	ipprotoVRRP     = 112
	ipprotoSCTP     = 132

	// protoUndef stands for "TCP, UDP and SCTP" where a port's protocol is
	// not fixed, as libpcap's PROTO_UNDEF.
	protoUndef = -1
)

type servicePorts struct {
	tcp, udp int // -1 when the name has no entry for that protocol
}

var (
	namesOnce sync.Once
	services  map[string]servicePorts
	protocols map[string]int
)

func loadNames() {
	services = make(map[string]servicePorts)
	for _, line := range strings.Split(servicesText, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		portText, proto, ok := strings.Cut(f[1], "/")
		port, err := strconv.Atoi(portText)
		if !ok || err != nil {
			continue
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			sp, seen := services[name]
			if !seen {
				sp = servicePorts{tcp: -1, udp: -1}
			}
			// The first entry for a name and protocol wins, as getservbyname.
			switch {
			case proto == "tcp" && sp.tcp < 0:
				sp.tcp = port
			case proto == "udp" && sp.udp < 0:
				sp.udp = port
			}
			services[name] = sp
		}
	}
	protocols = make(map[string]int)
	for _, line := range strings.Split(protocolsText, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue
		}
		for _, name := range append([]string{f[0]}, f[2:]...) {
			if _, seen := protocols[name]; !seen {
				protocols[name] = n
			}
		}
	}
}

// lookupPort resolves a service name as libpcap's pcap_nametoport: the TCP
// entry wins; when TCP and UDP agree on the number the protocol is left
// open (protoUndef) so both are matched.
func lookupPort(name string) (port, proto int, ok bool) {
	// getaddrinfo takes a decimal string as the port itself, for any
	// protocol ("smtp-53" is a valid range).
	if n, err := strconv.ParseUint(name, 10, 16); err == nil {
		return int(n), protoUndef, true
	}
	namesOnce.Do(loadNames)
	sp, found := services[name]
	if !found {
		return 0, 0, false
	}
	if sp.tcp >= 0 {
		if sp.udp == sp.tcp {
			return sp.tcp, protoUndef, true
		}
		return sp.tcp, ipprotoTCP, true
	}
	if sp.udp >= 0 {
		return sp.udp, ipprotoUDP, true
	}
	return 0, 0, false
}

// lookupPortRange resolves "a-b" as libpcap's pcap_nametoportrange: two
// numbers (anything after them ignored, as sscanf "%d-%d"), or two names
// split at the first '-'.
func lookupPortRange(text string) (lo, hi, proto int, ok bool) {
	if a, b, scanned := scanNumberPair(text); scanned {
		return a, b, protoUndef, true
	}
	first, second, found := strings.Cut(text, "-")
	if !found {
		return 0, 0, 0, false
	}
	lo, p1, ok1 := lookupPort(first)
	if !ok1 {
		return 0, 0, 0, false
	}
	hi, p2, ok2 := lookupPort(second)
	if !ok2 {
		return 0, 0, 0, false
	}
	if p1 != p2 {
		p2 = protoUndef
	}
	return lo, hi, p2, true
}

// scanNumberPair mimics sscanf(text, "%d-%d").
func scanNumberPair(text string) (int, int, bool) {
	a, rest, ok := scanDecimal(text)
	if !ok || !strings.HasPrefix(rest, "-") {
		return 0, 0, false
	}
	b, _, ok := scanDecimal(rest[1:])
	if !ok {
		return 0, 0, false
	}
	return a, b, true
}

// scanDecimal reads an optionally signed decimal integer after optional
// white space, as scanf's %d.
func scanDecimal(s string) (int, string, bool) {
	s = strings.TrimLeft(s, " \t\n")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == start {
		return 0, s, false
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, s, false
	}
	return int(int32(n)), s[i:], true
}

// lookupIPProto resolves an IP protocol name through the embedded
// protocols table, as getprotobyname.
func lookupIPProto(name string) (int, bool) {
	namesOnce.Do(loadNames)
	n, ok := protocols[name]
	return n, ok
}

// Ethernet types and LLC SAPs.
const (
	ethertypeIP       = 0x0800
	ethertypeARP      = 0x0806
	ethertypeRevARP   = 0x8035
	ethertypeIPv6     = 0x86dd
	ethertypeDN       = 0x6003
	ethertypeLAT      = 0x6004
	ethertypeSCA      = 0x6007
	ethertypeMOPDL    = 0x6001
	ethertypeMOPRC    = 0x6002
	ethertypeATalk    = 0x809b
	ethertypeAARP     = 0x80f3
	ethertypeIPX      = 0x8137
	ethertype8021Q    = 0x8100
	ethertypePPPoED   = 0x8863
	ethertypePPPoES   = 0x8864
	ethertypeMPLS     = 0x8847
	ethertypeMPLSMult = 0x8848

	llcSAPIP      = 0x06
	llcSAPISONS   = 0xfe
	llcSAPNetBEUI = 0xf0
	llcSAPIPX     = 0xe0
	llcSAP8021D   = 0x42
	llcSAPSNAP    = 0xaa

	etherMTU = 1500
)

// etherProtoNames is libpcap 1.10's table for "ether proto \name", then
// its LLC names.
var etherProtoNames = map[string]uint32{
	"aarp":    ethertypeAARP,
	"arp":     ethertypeARP,
	"atalk":   ethertypeATalk,
	"decnet":  ethertypeDN,
	"ip":      ethertypeIP,
	"ip6":     ethertypeIPv6,
	"lat":     ethertypeLAT,
	"mopdl":   ethertypeMOPDL,
	"moprc":   ethertypeMOPRC,
	"rarp":    ethertypeRevARP,
	"sca":     ethertypeSCA,
	"iso":     llcSAPISONS,
	"stp":     llcSAP8021D,
	"ipx":     llcSAPIPX,
	"netbeui": llcSAPNetBEUI,
}
