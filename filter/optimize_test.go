package filter

import (
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

func compileBoth(t *testing.T, expr string, lt pcap.LinkType) (unopt, opt Program, optErr error) {
	t.Helper()
	cfg := Config{LinkType: lt, Resolver: offlineResolver{}}
	unopt, err := Compile(expr, cfg)
	if err != nil {
		t.Fatalf("%q unoptimized: %v", expr, err)
	}
	cfg.Optimize = true
	opt, optErr = Compile(expr, cfg)
	return unopt, opt, optErr
}

var acceptAll = Program{{Op: ClassRet | SrcK, K: DefaultSnaplen}}

func TestOptimizePasses(t *testing.T) {
	for _, tc := range []struct {
		name string
		expr string
		lt   pcap.LinkType
		want Program // nil: only check it got shorter
	}{
		// A constant test at the entry is decided (raw IPv4 is always IP).
		{"constant entry", "ip", pcap.LinkTypeIPv4, acceptAll},
		// The second test is the first one's outcome on the false path, so
		// both branches meet and the load is dropped, as libpcap does.
		{"threading", "ip or not ip", pcap.LinkTypeEthernet, acceptAll},
		// "and #0" makes the value constant whatever the packet holds.
		{"masked to zero", "net 0.0.0.0/0", pcap.LinkTypeIPv4, acceptAll},
		// Constant arithmetic is folded.
		{"constant relation", "1 + 1 = 2", pcap.LinkTypeEthernet, acceptAll},
		{"equal value decides", "ip proto 6 and ip proto 6", pcap.LinkTypeEthernet, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			unopt, opt, err := compileBoth(t, tc.expr, tc.lt)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !slices.Equal(opt, tc.want) {
				t.Fatalf("optimized %q:\n%s", tc.expr, Dump(opt, DumpAssembly))
			}
			if len(opt) >= len(unopt) {
				t.Fatalf("optimized %q has %d instructions, unoptimized %d", tc.expr, len(opt), len(unopt))
			}
		})
	}
}

// TestOptimizeRejectsImpossibleFilters: like libpcap, a filter that can
// match nothing is an error, not a program that drops everything.
func TestOptimizeRejectsImpossibleFilters(t *testing.T) {
	for _, tc := range []struct {
		expr string
		lt   pcap.LinkType
	}{
		{"arp", pcap.LinkTypeRaw},
		{"ip6 and host 198.18.0.1", pcap.LinkTypeIPv4},
		{"ether proto 0x88cc", pcap.LinkTypeRaw},
		{"1 = 2", pcap.LinkTypeEthernet},
		{"ip and not ip", pcap.LinkTypeEthernet},
	} {
		_, _, err := compileBoth(t, tc.expr, tc.lt)
		if err == nil || !strings.Contains(err.Error(), "rejects all packets") {
			t.Errorf("%s %q: got %v, want 'expression rejects all packets'", tc.lt, tc.expr, err)
		}
	}
}

// TestOptimizeSkippedWhenGeneratorSaysSo: code with jumps inside statement
// lists (libpcap's protochain) is neither optimized nor refused for
// matching nothing, as pcap_compile does with no_optimize.
func TestOptimizeSkippedWhenGeneratorSaysSo(t *testing.T) {
	entry := generate(t, "ip and not ip", pcap.LinkTypeEthernet)
	want, err := assemble(entry)
	if err != nil {
		t.Fatal(err)
	}
	order, err := optimizeTree(entry, true)
	if err != nil {
		t.Fatalf("optimizeTree with noOptimize: %v", err)
	}
	prog, err := assembleOrder(order)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(prog, want) {
		t.Fatalf("noOptimize changed the program:\n%s", Dump(prog, DumpAssembly))
	}
	if _, err := optimizeTree(generate(t, "ip and not ip", pcap.LinkTypeEthernet), false); err == nil {
		t.Fatal("optimizing 'ip and not ip' should reject it")
	}
}

// generate returns the unoptimized graph of expr.
func generate(t testing.TB, expr string, lt pcap.LinkType) *block {
	t.Helper()
	entry, _, err := genGraph(expr, lt)
	if err != nil {
		t.Fatal(err)
	}
	return entry
}

// genGraph runs the parser and the generator, as Compile does before
// optimizing; noOptimize marks graphs libpcap leaves unoptimized.
func genGraph(expr string, lt pcap.LinkType) (entry *block, noOptimize bool, err error) {
	root, err := Parse(expr)
	if err != nil {
		return nil, false, err
	}
	return buildGraph(expr, root, Config{LinkType: lt, Snaplen: DefaultSnaplen, Resolver: offlineResolver{}})
}

// TestOptimizeKeepsTestsThatFeedLaterCode: "byte 1 & 2" tests whatever A
// holds, so the test before it must not be dropped even when its
// branches meet.
func TestOptimizeKeepsTestsThatFeedLaterCode(t *testing.T) {
	unopt, opt, err := compileBoth(t, "(ip or not ip) and byte 1 & 2", pcap.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	packet := make([]byte, 64)
	packet[12], packet[13] = 0x08, 0x02 // A after "ldh [12]" is 0x802: bit 2 set
	if Run(unopt, packet, len(packet)) == 0 || Run(opt, packet, len(packet)) == 0 {
		t.Fatalf("A from the first test must reach the byte test:\n%s", Dump(opt, DumpAssembly))
	}
}

// TestOptimizedVerdictsEqualUnoptimized runs every expression of the
// differential table, optimized and not, on every generated packet padded
// so that no load can fall off its end: dropping loads is the only way
// the two may differ, so on padded packets they must agree.
func TestOptimizedVerdictsEqualUnoptimized(t *testing.T) {
	captures := readWithWeir(t, loadDiffCaptures(t))
	checked := 0
	for _, e := range loadDiffExpressions(t) {
		for _, c := range captures {
			cfg := Config{LinkType: c.linkType, Resolver: offlineResolver{}, Savefile: true, SavefileBigEndian: c.bigEndian}
			unopt, err := Compile(e.text, cfg)
			if err != nil {
				continue
			}
			cfg.Optimize = true
			opt, err := Compile(e.text, cfg)
			if err != nil {
				if !strings.Contains(err.Error(), "rejects all packets") {
					t.Errorf("%q on %s: optimizing fails: %v", e.text, c.linkType, err)
				}
				continue
			}
			if err := Validate(opt); err != nil {
				t.Errorf("%q on %s: optimized program invalid: %v", e.text, c.linkType, err)
			}
			for i, data := range c.data {
				padded := make([]byte, 4096)
				copy(padded, data)
				u, o := Run(unopt, padded, c.lengths[i]), Run(opt, padded, c.lengths[i])
				if u != o {
					t.Errorf("%q on %s packet %d: unoptimized returns %d, optimized %d", e.text, c.linkType, i+1, u, o)
				}
				checked++
			}
		}
	}
	if checked < 10000 {
		t.Fatalf("only %d verdicts compared", checked)
	}
}

// TestLinkTypesWithoutLayout: on a link type whose layout weir does not
// know yet, tests on raw bytes compile and protocol tests are refused,
// never compiled wrong.
func TestLinkTypesWithoutLayout(t *testing.T) {
	const (
		linkTypeUSB         = pcap.LinkType(189) // USB_LINUX
		linkTypeNetAnalyzer = pcap.LinkType(240) // NETANALYZER
	)
	for _, tc := range []struct {
		lt      pcap.LinkType
		expr    string
		compile bool
	}{
		{linkTypeUSB, "", true},
		{linkTypeUSB, "len >= 100 and link[0] = 0xff", true},
		{linkTypeUSB, "byte 8 = 5", true},
		{linkTypeUSB, "ip", false},
		{linkTypeUSB, "tcp port 80", false},
		{linkTypeUSB, "ip[0] = 0x45", false},
		{linkTypeNetAnalyzer, "link[0] = 1", false}, // pseudo-header first
		{linkTypeNetAnalyzer, "byte 1 = 2", false},
		{linkTypeNetAnalyzer, "len > 100", true},
	} {
		_, err := Compile(tc.expr, Config{LinkType: tc.lt})
		switch {
		case tc.compile && err != nil:
			t.Errorf("%s %q: %v", tc.lt, tc.expr, err)
		case !tc.compile && (err == nil || !strings.Contains(err.Error(), "not supported yet")):
			t.Errorf("%s %q: got %v, want a 'not supported yet' error", tc.lt, tc.expr, err)
		}
	}
}
