package filter

import (
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// TestOptimizeMatchesTcpdump holds the optimizer to libpcap's: every
// optimized program in the dump golden (recorded from tcpdump -dd) must
// come out of Compile identical, instruction for instruction, so that its
// verdicts are tcpdump's on every packet, truncated ones included.
func TestOptimizeMatchesTcpdump(t *testing.T) {
	matched, unsupported := 0, 0
	for _, e := range readDumpGolden(t) {
		if !e.optimized {
			continue
		}
		linkType, ok := pcap.LinkTypeByName(e.linkType)
		if !ok {
			t.Fatalf("golden names unknown link type %q", e.linkType)
		}
		want, err := e.program()
		if err != nil {
			t.Fatalf("%s: %v", e.name(), err)
		}
		got, err := libpcapOptimized(e.expr, linkType)
		if err != nil {
			if strings.Contains(err.Error(), "not supported") {
				unsupported++
				continue
			}
			t.Errorf("%s: tcpdump compiles it, weir: %v", e.name(), err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\nweir:\n%s\ntcpdump:\n%s", e.name(), Dump(got, DumpAssembly), Dump(want, DumpAssembly))
			continue
		}
		matched++
	}
	t.Logf("%d optimized programs identical to tcpdump's, %d use words not supported yet", matched, unsupported)
	if matched < 500 {
		t.Errorf("only %d programs compared; the golden looks truncated", matched)
	}
}

// libpcapOptimized compiles expr with only the passes that reproduce
// libpcap's optimizer.
func libpcapOptimized(expr string, lt pcap.LinkType) (Program, error) {
	return Compile(expr, Config{LinkType: lt, Optimize: true, Resolver: offlineResolver{}})
}
