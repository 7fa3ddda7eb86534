package filter

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// goldenOptimized is an optimized program of the dump golden with what
// weir makes of the same expression.
type goldenOptimized struct {
	entry   dumpEntry
	tcpdump Program
	libpcap Program // weir's passes reproducing libpcap's only
	weir    Program // Compile with every pass
}

// optimizedGoldens compiles every optimized expression of the dump golden
// both ways; expressions weir does not support yet are counted, not
// returned.
func optimizedGoldens(t *testing.T) (out []goldenOptimized, unsupported int) {
	t.Helper()
	for _, e := range readDumpGolden(t) {
		if !e.optimized {
			continue
		}
		lt, ok := pcap.LinkTypeByName(e.linkType)
		if !ok {
			t.Fatalf("golden names unknown link type %q", e.linkType)
		}
		want, err := e.program()
		if err != nil {
			t.Fatalf("%s: %v", e.name(), err)
		}
		libpcap, err := libpcapOptimized(e.expr, lt)
		if err != nil {
			if strings.Contains(err.Error(), "not supported") {
				unsupported++
				continue
			}
			t.Errorf("%s: tcpdump compiles it, weir: %v", e.name(), err)
			continue
		}
		weir, err := Compile(e.expr, Config{LinkType: lt, Optimize: true, Resolver: offlineResolver{}})
		if err != nil {
			t.Errorf("%s: %v", e.name(), err)
			continue
		}
		out = append(out, goldenOptimized{e, want, libpcap, weir})
	}
	return out, unsupported
}

// TestOptimizeMatchesTcpdump holds the passes that reproduce libpcap's
// optimizer to libpcap's: every optimized program in the dump golden
// (recorded from tcpdump -dd) comes out identical, instruction for
// instruction, so its verdicts are tcpdump's on every packet, truncated
// ones included.
func TestOptimizeMatchesTcpdump(t *testing.T) {
	programs, unsupported := optimizedGoldens(t)
	matched := 0
	for _, g := range programs {
		if !slices.Equal(g.libpcap, g.tcpdump) {
			t.Errorf("%s:\nweir:\n%s\ntcpdump:\n%s", g.entry.name(), Dump(g.libpcap, DumpAssembly), Dump(g.tcpdump, DumpAssembly))
			continue
		}
		matched++
	}
	t.Logf("%d optimized programs identical to tcpdump's, %d use words not supported yet", matched, unsupported)
	if matched < 500 {
		t.Errorf("only %d programs compared; the golden looks truncated", matched)
	}
}

// TestOptimizeNeverLongerThanTcpdump: with its own passes too, weir's
// program is never longer than tcpdump's and returns what tcpdump's
// returns on every packet, cut at every length: the passes that shorten
// it keep every load.
func TestOptimizeNeverLongerThanTcpdump(t *testing.T) {
	programs, _ := optimizedGoldens(t)
	packets := map[string][]testPacket{}
	shorter := 0
	for _, g := range programs {
		if len(g.weir) > len(g.tcpdump) {
			t.Errorf("%s: %d instructions, tcpdump %d", g.entry.name(), len(g.weir), len(g.tcpdump))
		}
		if len(g.weir) < len(g.tcpdump) {
			shorter++
			t.Logf("%s: %d instructions, tcpdump %d", g.entry.name(), len(g.weir), len(g.tcpdump))
		}
		if err := Validate(g.weir); err != nil && Validate(g.tcpdump) == nil {
			t.Errorf("%s: %v", g.entry.name(), err)
		}
		if n := unreachable(g.weir); n != 0 {
			t.Errorf("%s: %d instructions no path reaches", g.entry.name(), n)
		}
		pkts, ok := packets[g.entry.linkType]
		if !ok {
			pkts = verdictPackets(g.entry.linkType)
			packets[g.entry.linkType] = pkts
		}
		if msg := sameVerdicts(g.tcpdump, g.weir, pkts); msg != "" {
			t.Errorf("%s: %s\nweir:\n%s\ntcpdump:\n%s", g.entry.name(), msg, Dump(g.weir, DumpAssembly), Dump(g.tcpdump, DumpAssembly))
		}
	}
	t.Logf("%d of %d programs shorter than tcpdump's", shorter, len(programs))
}

// sameVerdicts runs two programs on every packet cut at every length up
// to 128 bytes and at its full length, and describes the first
// difference.
func sameVerdicts(want, got Program, pkts []testPacket) string {
	for i, p := range pkts {
		for n := 0; n <= len(p.data); n++ {
			if n > 128 && n < len(p.data) {
				n = len(p.data)
			}
			w, g := Run(want, p.data[:n], p.wireLen), Run(got, p.data[:n], p.wireLen)
			if w != g {
				return fmt.Sprintf("packet %d cut at %d: want %d, got %d", i, n, w, g)
			}
		}
	}
	return ""
}

// libpcapOptimized compiles expr with only the passes that reproduce
// libpcap's optimizer, laid out as libpcap lays programs out.
func libpcapOptimized(expr string, lt pcap.LinkType) (Program, error) {
	entry, noOptimize, err := genGraph(expr, lt)
	if err != nil {
		return nil, err
	}
	if noOptimize { // tcpdump -d prints these unoptimized too
		return assemble(entry)
	}
	if entry, err = optimize(entry, false); err != nil {
		return nil, err
	}
	return assemble(entry)
}

// TestOptimizeLongChainMatchesTcpdump: on a chain long enough for
// libpcap's pullups to sort hundreds of tests and for its layout to need
// trampolines, the passes reproducing libpcap's give tcpdump's program.
// WEIR_LONG_CHAIN=n tries n hosts instead of 150.
func TestOptimizeLongChainMatchesTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	n := 150
	if v := os.Getenv("WEIR_LONG_CHAIN"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	expr := hostsExpr(n)
	out, err := exec.Command(tcpdump, "-dd", "-y", "EN10MB", "--", expr).Output()
	if err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	want, err := parseDumpC(string(out))
	if err != nil {
		t.Fatal(err)
	}
	got, err := libpcapOptimized(expr, pcap.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%d hosts: weir and tcpdump differ:\n%s", n, lineDiff(Dump(want, DumpAssembly), Dump(got, DumpAssembly)))
	}
}
