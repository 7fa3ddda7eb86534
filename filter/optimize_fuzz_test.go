package filter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// FuzzOptimize compiles random expressions of the filter language three
// ways (unoptimized, with the passes that reproduce libpcap's optimizer,
// with all passes) and runs them on a random packet:
//   - padded so that no load can fall off its end, all three agree (but
//     for libpcap's "& 0xffffffff" bug and dropped divisions by zero,
//     which the optimizers reproduce);
//   - cut at every length, the libpcap passes and all passes agree, since
//     weir's own passes keep every load;
//   - the optimized programs validate and are never longer than the
//     libpcap passes' program.
func FuzzOptimize(f *testing.F) {
	for _, p := range verdictPackets("EN10MB")[:8] {
		f.Add([]byte("seed"), p.data)
	}
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, []byte{0x45})
	f.Add([]byte("\x00\x07\x13\x21\x34\x55\x89\x90"), make([]byte, 60))
	f.Fuzz(func(t *testing.T, shape, packet []byte) {
		src := &byteSource{data: shape}
		lt := []pcap.LinkType{pcap.LinkTypeEthernet, pcap.LinkTypeLinuxSLL, pcap.LinkTypeRaw}[src.intn(3)]
		expr := randExpr(src, 3)
		checkOptimizer(t, expr, lt, packet)
	})
}

// checkOptimizer compiles expr all three ways and compares verdicts on
// packet as FuzzOptimize describes.
func checkOptimizer(t *testing.T, expr string, lt pcap.LinkType, packet []byte) {
	t.Helper()
	cfg := Config{LinkType: lt, Resolver: offlineResolver{}}
	unopt, err := Compile(expr, cfg)
	if err != nil {
		return // not in the language weir compiles
	}
	libpcap, libErr := libpcapOptimized(expr, lt)
	cfg.Optimize = true
	opt, err := Compile(expr, cfg)
	if (err == nil) != (libErr == nil) {
		t.Fatalf("%s %q: optimizing fails %v, libpcap's passes alone %v", lt, expr, err, libErr)
	}
	if err != nil {
		if !strings.Contains(err.Error(), "rejects all packets") && !strings.Contains(err.Error(), "by zero") &&
			!strings.Contains(err.Error(), "shift by") {
			t.Fatalf("%s %q: %v", lt, expr, err)
		}
		return
	}
	if Validate(unopt) == nil {
		for _, p := range []Program{libpcap, opt} {
			if err := Validate(p); err != nil {
				t.Fatalf("%s %q: optimized program invalid: %v\n%s", lt, expr, err, Dump(p, DumpAssembly))
			}
		}
	}
	if n := unreachable(opt); n != 0 {
		t.Fatalf("%s %q: %d instructions no path reaches\n%s", lt, expr, n, Dump(opt, DumpAssembly))
	}
	if len(opt) > len(libpcap) {
		t.Fatalf("%s %q: %d instructions, libpcap's passes %d", lt, expr, len(opt), len(libpcap))
	}
	padded := make([]byte, 4096)
	copy(padded, packet)
	wire := max(len(packet), 1)
	u, l, o := Run(unopt, padded, wire), Run(libpcap, padded, wire), Run(opt, padded, wire)
	if u != l && (hitsAllOnesJset(expr, lt) || strings.ContainsAny(expr, "/%")) {
		// libpcap 1.10.3 makes "x & 0xffffffff" tests always hold, and
		// drops divisions whose result does not matter, which stop the
		// unoptimized program when dividing by zero; so does weir.
		u = l
	}
	if u != l || u != o {
		t.Fatalf("%s %q on a padded packet: unoptimized %d, libpcap's passes %d, all passes %d\nlibpcap's passes:\n%s\nall passes:\n%s",
			lt, expr, u, l, o, Dump(libpcap, DumpAssembly), Dump(opt, DumpAssembly))
	}
	if msg := sameVerdicts(libpcap, opt, []testPacket{{data: packet, wireLen: wire}}); msg != "" {
		t.Fatalf("%s %q: %s\nlibpcap's passes:\n%s\nall passes:\n%s", lt, expr, msg, Dump(libpcap, DumpAssembly), Dump(opt, DumpAssembly))
	}
}

// hitsAllOnesJset tells whether optimizing expr takes "jset #0xffffffff"
// as always holding, as libpcap 1.10.3 does.
func hitsAllOnesJset(expr string, lt pcap.LinkType) bool {
	entry, noOptimize, err := genGraph(expr, lt)
	if err != nil || noOptimize {
		return false
	}
	o, ok := newOptimizer(entry)
	if !ok {
		return false
	}
	defer func() { _ = recover() }()
	o.libpcap()
	return o.allOnesJset
}

// byteSource turns fuzz input into choices; past its end it repeats a
// fixed pattern so every input makes a complete expression.
type byteSource struct {
	data []byte
	i    int
}

func (s *byteSource) intn(n int) int {
	var b byte
	if s.i < len(s.data) {
		b = s.data[s.i]
	} else {
		b = byte(s.i * 7)
	}
	s.i++
	return int(b) % n
}

// randExpr builds an expression from the grammar: primitives joined by
// and, or, not and parentheses, at most depth levels deep.
func randExpr(s *byteSource, depth int) string {
	if depth == 0 {
		return randPrimitive(s)
	}
	switch s.intn(6) {
	case 0:
		return randExpr(s, depth-1) + " and " + randExpr(s, depth-1)
	case 1:
		return randExpr(s, depth-1) + " or " + randExpr(s, depth-1)
	case 2:
		return "not " + randExpr(s, depth-1)
	case 3:
		return "(" + randExpr(s, depth-1) + ")"
	}
	return randPrimitive(s)
}

func randPrimitive(s *byteSource) string {
	n := func(max int) int { return s.intn(max) }
	addr := func() string { return fmt.Sprintf("10.0.%d.%d", n(3), n(4)) }
	port := func() int { return []int{20, 22, 53, 80, 443, 5353, 0, 65535}[n(8)] }
	dir := []string{"", "src ", "dst ", "src or dst ", "src and dst "}[n(5)]
	proto := []string{"ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp", "icmp6", "sctp", "igmp"}[n(10)]
	switch n(16) {
	case 0:
		return proto
	case 1:
		return dir + "host " + addr()
	case 2:
		return dir + []string{"net 10.0.0.0/8", "net 0.0.0.0/0", fmt.Sprintf("net 10.%d.0.0/16", n(3)), fmt.Sprintf("net 10.%d.%d.0/24", n(3), n(3))}[n(4)]
	case 3:
		return []string{"", "tcp ", "udp "}[n(3)] + dir + fmt.Sprintf("port %d", port())
	case 4:
		lo := port()
		return dir + fmt.Sprintf("portrange %d-%d", lo, lo+n(3))
	case 5:
		return fmt.Sprintf("%s %d", []string{"less", "greater", "len >=", "len <", "len ="}[n(5)], n(200))
	case 6:
		return fmt.Sprintf("%s[%d] %s %d", []string{"ip", "tcp", "udp", "ether", "icmp"}[n(5)], n(24),
			[]string{"=", "!=", ">", "<", ">=", "<="}[n(6)], n(256))
	case 7:
		return fmt.Sprintf("%s[%d:%d] & 0x%x %s 0", []string{"ip", "tcp", "udp", "ether"}[n(4)], n(20),
			[]int{1, 2, 4}[n(3)], []uint32{0xf0, 0xffff, 0x1fff, 0, 0xffffffff, 1}[n(6)], []string{"=", "!="}[n(2)])
	case 8:
		return fmt.Sprintf("%s %s %d", randArith(s, 2), []string{"=", "!=", ">", "<", ">=", "<="}[n(6)], n(300))
	case 9:
		return fmt.Sprintf("ether %shost 00:11:22:33:44:%02x", dir, n(4))
	case 10:
		return fmt.Sprintf("%s proto %d", []string{"ip", "ip6", "ether"}[n(3)], []int{6, 17, 1, 58, 0x800, 0x86dd}[n(6)])
	case 11:
		return []string{"ip broadcast", "ip multicast", "ether broadcast", "ether multicast", "ip6 multicast"}[n(5)]
	case 12:
		return []string{"tcp[tcpflags] & tcp-syn != 0", "icmp[icmptype] = icmp-echo", "tcp[13] & 18 = 18", "ip[6:2] & 0x3fff != 0"}[n(4)]
	case 13:
		return fmt.Sprintf("ip6 %shost 2001:db8::%d", dir, n(3))
	case 14:
		return []string{"1 = 1", "0 = 1", "len >= 0", "len > 0xffffffff", "byte 1 > 256"}[n(5)]
	}
	return fmt.Sprintf("ip proto %d", []int{6, 17, 1}[n(3)])
}

func randArith(s *byteSource, depth int) string {
	leaf := func() string {
		switch s.intn(4) {
		case 0:
			return "len"
		case 1:
			return fmt.Sprint(s.intn(40))
		case 2:
			return fmt.Sprintf("ip[%d]", s.intn(20))
		}
		return fmt.Sprintf("tcp[%d:2]", s.intn(20))
	}
	if depth == 0 || s.intn(3) == 0 {
		return leaf()
	}
	op := []string{"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"}[s.intn(10)]
	return "(" + randArith(s, depth-1) + " " + op + " " + randArith(s, depth-1) + ")"
}
