package filter

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// TestCompileMatchesTcpdumpUnoptimized holds the code generator to
// libpcap's, instruction for instruction: every unoptimized program in the
// dump golden (recorded from tcpdump -O -dd) must come out of Compile
// identical. Expressions whose words belong to features weir does not
// compile yet must fail with a "not supported" error, never a program.
func TestCompileMatchesTcpdumpUnoptimized(t *testing.T) {
	matched, unsupported := 0, 0
	for _, e := range readDumpGolden(t) {
		if e.optimized {
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
		got, err := Compile(e.expr, Config{LinkType: linkType, Resolver: offlineResolver{}})
		if err != nil {
			if strings.Contains(err.Error(), "not supported") {
				unsupported++
				continue
			}
			t.Errorf("%s: tcpdump compiles it, weir: %v", e.name(), err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\nweir:\n%s\ntcpdump -O:\n%s", e.name(), Dump(got, DumpAssembly), Dump(want, DumpAssembly))
			continue
		}
		matched++
	}
	t.Logf("%d programs identical to tcpdump -O, %d use words not supported yet", matched, unsupported)
	if matched < 739 {
		t.Errorf("only %d programs compared; the golden looks truncated", matched)
	}
}

// TestLongJumpsMatchTcpdump checks the trampolines: a program long enough
// that conditional jumps exceed 255 instructions is laid out exactly as
// tcpdump -O lays it out, and still validates.
func TestLongJumpsMatchTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	var terms []string
	for i := 1; i <= 60; i++ {
		terms = append(terms, fmt.Sprintf("host 198.18.0.%d", i))
	}
	expr := strings.Join(terms, " or ") + " or tcp port 80"
	out, err := exec.Command(tcpdump, "-O", "-dd", "-y", "EN10MB", "--", expr).Output()
	if err != nil {
		t.Fatalf("tcpdump: %v", err)
	}
	want, err := parseDumpC(string(out))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compile(expr, Config{LinkType: pcap.LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	jas := 0
	for _, in := range got {
		if in.Op == ClassJmp|JmpJa {
			jas++
		}
	}
	if jas == 0 {
		t.Fatalf("expected trampolines in a %d-instruction program", len(got))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("weir and tcpdump -O differ:\n%s", lineDiff(Dump(want, DumpAssembly), Dump(got, DumpAssembly)))
	}
	if err := Validate(got); err != nil {
		t.Fatal(err)
	}
}
