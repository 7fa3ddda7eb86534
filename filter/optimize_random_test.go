package filter

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// randomGolden holds tcpdump's optimized programs for random expressions
// of the grammar FuzzOptimize uses; go test -run TestOptimizeRandom
// -update records it again from the local tcpdump.
var randomGolden = filepath.Join("testdata", "optimize", "random.golden.gz")

// randomExpressions is the fixed list the golden was recorded for.
func randomExpressions() (exprs []string, lts []string) {
	rng := rand.New(rand.NewSource(99))
	for i := 0; i < 400; i++ {
		shape := make([]byte, 64)
		rng.Read(shape)
		src := &byteSource{data: shape}
		lts = append(lts, []string{"EN10MB", "LINUX_SLL", "RAW"}[src.intn(3)])
		exprs = append(exprs, randExpr(src, 4))
	}
	return exprs, lts
}

// TestOptimizeRandomMatchesTcpdump: on random expressions nested four
// deep, the passes reproducing libpcap's optimizer give tcpdump's
// program, or fail where tcpdump fails.
func TestOptimizeRandomMatchesTcpdump(t *testing.T) {
	if testutil.Update() {
		writeRandomGolden(t)
	}
	want := readRandomGolden(t)
	exprs, lts := randomExpressions()
	same := 0
	for i, expr := range exprs {
		key := lts[i] + "\t" + expr
		w, ok := want[key]
		if !ok {
			t.Fatalf("%s: not in %s (run with -update)", key, randomGolden)
		}
		lt, _ := pcap.LinkTypeByName(lts[i])
		got, err := libpcapOptimized(expr, lt)
		switch {
		case err != nil && strings.Contains(err.Error(), "not supported"):
			continue
		case err != nil && w != "":
			t.Errorf("%s: tcpdump compiles it, weir: %v", key, err)
		case err == nil && w == "":
			t.Errorf("%s: tcpdump refuses it, weir compiles it", key)
		case err == nil:
			if wp, _ := parseDumpC(w); !slices.Equal(got, wp) {
				t.Errorf("%s:\n%s", key, lineDiff(Dump(wp, DumpAssembly), Dump(got, DumpAssembly)))
				continue
			}
			same++
		}
	}
	if same < 250 {
		t.Errorf("only %d programs compared", same)
	}
}

// readRandomGolden maps "LINKTYPE\texpr" to tcpdump's -dd output, empty
// when tcpdump refused the expression.
func readRandomGolden(t *testing.T) map[string]string {
	raw, err := os.ReadFile(randomGolden)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var key string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if k, ok := strings.CutPrefix(sc.Text(), "=== "); ok {
			key = k
			out[key] = ""
			continue
		}
		out[key] += sc.Text() + "\n"
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func writeRandomGolden(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	exprs, lts := randomExpressions()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for i, expr := range exprs {
		out, err := exec.Command(tcpdump, "-dd", "-y", lts[i], "--", expr).Output()
		if err != nil {
			out = nil // refused
		}
		fmt.Fprintf(zw, "=== %s\t%s\n%s", lts[i], expr, out)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(randomGolden), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(randomGolden, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
