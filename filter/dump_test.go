package filter

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// The goldens under testdata/dump come from the local tcpdump 4.99.3 /
// libpcap 1.10.3; go test -run TestDump -update regenerates them.
var (
	dumpExpressions = filepath.Join("testdata", "dump", "expressions.txt")
	dumpGolden      = filepath.Join("testdata", "dump", "tcpdump.golden.gz")
	opcodesGolden   = filepath.Join("testdata", "dump", "opcodes.golden")
)

// dumpEntry is tcpdump's three dumps of one compiled expression.
type dumpEntry struct {
	linkType  string
	optimized bool
	expr      string
	text      [3]string // -d, -dd, -ddd
}

var dumpFormats = [3]DumpFormat{DumpAssembly, DumpC, DumpDecimal}

func (e dumpEntry) name() string {
	mode := "unoptimized"
	if e.optimized {
		mode = "optimized"
	}
	return e.linkType + " " + mode + " " + e.expr
}

// program parses the -dd text back into the instructions tcpdump compiled.
func (e dumpEntry) program() (Program, error) {
	return parseDumpC(e.text[1])
}

func TestDumpTcpdumpGolden(t *testing.T) {
	if testutil.Update() {
		writeDumpGolden(t)
	}
	entries := readDumpGolden(t)
	if len(entries) < 500 {
		t.Fatalf("%s holds %d programs, want at least 500", dumpGolden, len(entries))
	}
	for _, e := range entries {
		p, err := e.program()
		if err != nil {
			t.Fatalf("%s: %v", e.name(), err)
		}
		for i, f := range dumpFormats {
			if got := Dump(p, f); got != e.text[i] {
				t.Errorf("%s: Dump(format %d) differs from tcpdump:\n%s", e.name(), f, lineDiff(e.text[i], got))
			}
		}
	}
}

// TestDumpOpcodes compares Image with libpcap's bpf_image on every 8-bit
// opcode, including those tcpdump's compiler never emits.
func TestDumpOpcodes(t *testing.T) {
	if testutil.Update() {
		writeOpcodesGolden(t)
	}
	f, err := os.Open(opcodesGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[uint16]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ins, index, want, err := parseOpcodeLine(sc.Text())
		if err != nil {
			t.Fatalf("%s: %v", opcodesGolden, err)
		}
		seen[ins.Op] = true
		if got := Image(ins, index); got != want {
			t.Errorf("Image(%+v, %d) = %q, bpf_image gives %q", ins, index, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 256 {
		t.Errorf("%s covers %d opcodes, want all 256", opcodesGolden, len(seen))
	}
}

func TestDumpFormats(t *testing.T) {
	p := Program{
		{Op: opLdH, K: 12},
		{Op: opJeqK, Jt: 0, Jf: 2, K: 0x800},
		{Op: opLdIndB, K: 14},
		{Op: opRetA},
		{Op: opRetK, K: 262144},
	}
	tests := []struct {
		format DumpFormat
		want   string
	}{
		{DumpAssembly, "(000) ldh      [12]\n" +
			"(001) jeq      #0x800           jt 2\tjf 4\n" +
			"(002) ldb      [x + 14]\n" +
			"(003) ret      \n" +
			"(004) ret      #262144\n"},
		{DumpC, "{ 0x28, 0, 0, 0x0000000c },\n" +
			"{ 0x15, 0, 2, 0x00000800 },\n" +
			"{ 0x50, 0, 0, 0x0000000e },\n" +
			"{ 0x16, 0, 0, 0x00000000 },\n" +
			"{ 0x6, 0, 0, 0x00040000 },\n"},
		{DumpDecimal, "5\n40 0 0 12\n21 0 2 2048\n80 0 0 14\n22 0 0 0\n6 0 0 262144\n"},
		// tcpdump -dddd counts as -ddd.
		{DumpDecimal + 1, "5\n40 0 0 12\n21 0 2 2048\n80 0 0 14\n22 0 0 0\n6 0 0 262144\n"},
	}
	for _, tt := range tests {
		if got := Dump(p, tt.format); got != tt.want {
			t.Errorf("Dump(format %d):\n%s", tt.format, lineDiff(tt.want, got))
		}
	}
}

func TestImageOperands(t *testing.T) {
	tests := []struct {
		ins   Instruction
		index int
		want  string
	}{
		{Instruction{Op: opLdImm, K: 0xdeadbeef}, 0, "(000) ld       #0xdeadbeef"},
		{Instruction{Op: opLdxMsh, K: 14}, 3, "(003) ldxb     4*([14]&0xf)"},
		{Instruction{Op: opLdLen}, 1, "(001) ld       #pktlen"},
		{Instruction{Op: opSt, K: 3}, 2, "(002) st       M[3]"},
		{Instruction{Op: opLdxMem, K: 15}, 2, "(002) ldx      M[15]"},
		{Instruction{Op: opAddK, K: 0xffffffff}, 4, "(004) add      #-1"},
		{Instruction{Op: opAndK, K: 0xf}, 4, "(004) and      #0xf"},
		{Instruction{Op: opModX}, 4, "(004) mod      x"},
		{Instruction{Op: opJsetX, Jt: 1, Jf: 0}, 7, "(007) jset     x                jt 9\tjf 8"},
		{Instruction{Op: opJa, K: 3}, 1000, "(1000) ja       1004"},
		{Instruction{Op: opJa, K: 0xfffffff1}, 18, "(018) ja       4"},
		{Instruction{Op: opLdB, K: ancillaryBase + 4}, 0, "(000) ldb      [type]"},
		{Instruction{Op: opLdW, K: 0xfff00000}, 0, "(000) ld       [-1048576]"},
		{Instruction{Op: opLdxLen}, 0, "(000) unimp    0x81"},
		{Instruction{Op: 0x55, Jt: 1, Jf: 2}, 0, "(000) unimp    0x55             jt 2\tjf 3"},
	}
	for _, tt := range tests {
		if got := Image(tt.ins, tt.index); got != tt.want {
			t.Errorf("Image(%+v, %d) = %q, want %q", tt.ins, tt.index, got, tt.want)
		}
	}
}

// parseDumpC reads tcpdump -dd lines: "{ 0x28, 0, 0, 0x0000000c },".
func parseDumpC(text string) (Program, error) {
	var p Program
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		var op, jt, jf, k uint64
		fields := strings.Split(strings.Trim(line, "{ },"), ", ")
		if len(fields) != 4 {
			return nil, fmt.Errorf("-dd line %d: %q", i, line)
		}
		var errs [4]error
		op, errs[0] = strconv.ParseUint(fields[0], 0, 16)
		jt, errs[1] = strconv.ParseUint(fields[1], 0, 8)
		jf, errs[2] = strconv.ParseUint(fields[2], 0, 8)
		k, errs[3] = strconv.ParseUint(fields[3], 0, 32)
		for _, err := range errs {
			if err != nil {
				return nil, fmt.Errorf("-dd line %d: %q: %v", i, line, err)
			}
		}
		p = append(p, Instruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)})
	}
	return p, nil
}

// readDumpGolden parses the golden: per program a line
// "=== LINKTYPE optimized|unoptimized\tEXPR", then "--- d", "--- dd" and
// "--- ddd" sections holding tcpdump's output.
func readDumpGolden(t testing.TB) []dumpEntry {
	t.Helper()
	raw, err := os.ReadFile(dumpGolden)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var entries []dumpEntry
	var cur *dumpEntry
	section := -1
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "=== "):
			head, expr, _ := strings.Cut(line[4:], "\t")
			lt, mode, _ := strings.Cut(head, " ")
			entries = append(entries, dumpEntry{linkType: lt, optimized: mode == "optimized", expr: expr})
			cur, section = &entries[len(entries)-1], -1
		case line == "--- d":
			section = 0
		case line == "--- dd":
			section = 1
		case line == "--- ddd":
			section = 2
		case cur != nil && section >= 0:
			cur.text[section] += line + "\n"
		default:
			t.Fatalf("%s: stray line %q", dumpGolden, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

// writeDumpGolden runs the local tcpdump on every expression of
// expressions.txt for its link type, optimized and not.
func writeDumpGolden(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	list, err := os.ReadFile(dumpExpressions)
	if err != nil {
		t.Fatal(err)
	}
	var entries []dumpEntry
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		lt, expr, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: line %q lacks a tab", dumpExpressions, line)
		}
		for _, opt := range []bool{true, false} {
			entries = append(entries, dumpEntry{linkType: lt, optimized: opt, expr: expr})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(entries))
	sem := make(chan struct{}, 8)
	for i := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = runTcpdumpDumps(tcpdump, &entries[i])
		}()
	}
	wg.Wait()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	for i, e := range entries {
		if errs[i] != nil {
			t.Logf("skipping %s: %v", e.name(), errs[i])
			continue
		}
		mode := "unoptimized"
		if e.optimized {
			mode = "optimized"
		}
		fmt.Fprintf(zw, "=== %s %s\t%s\n--- d\n%s--- dd\n%s--- ddd\n%s", e.linkType, mode, e.expr, e.text[0], e.text[1], e.text[2])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dumpGolden, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runTcpdumpDumps(tcpdump string, e *dumpEntry) error {
	for i, flag := range []string{"-d", "-dd", "-ddd"} {
		args := []string{"-y", e.linkType, flag}
		if !e.optimized {
			args = append(args, "-O")
		}
		args = append(args, "--", e.expr)
		var stderr bytes.Buffer
		cmd := exec.Command(tcpdump, args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("tcpdump %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		e.text[i] = string(out)
	}
	return nil
}

// lineDiff shows the first differing line of two dumps.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n want %q\n  got %q", i+1, wl, gl)
		}
	}
	return "(equal)"
}
