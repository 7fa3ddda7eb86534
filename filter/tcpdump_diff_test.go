package filter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// The differential test runs every expression of testdata/diff/expressions.txt
// with tcpdump and with weir on every capture of ../testdata/captures (made by
// internal/cmd/gencaptures) and demands the same verdicts: the same packets
// kept, and a compile error exactly where tcpdump has one.

const (
	diffCaptureDir     = "../testdata/captures"
	diffExpressionFile = "testdata/diff/expressions.txt"
	maxReported        = 60
)

var diffUnoptimized = flag.Bool("diff.unoptimized", false,
	"also compare weir's unoptimized programs with tcpdump -O (doubles the tcpdump runs)")

// A diffMode pairs a way of running tcpdump with the weir configuration
// that must agree with it. The optimizer changes verdicts: an optimized
// program may drop a load that would fail on a truncated packet, and
// libpcap refuses an expression its optimizer proves matches nothing.
type diffMode struct {
	tcpdump, weir string // how messages name the two sides
	tcpdumpArgs   []string
	optimize      bool
}

var (
	optimizedMode   = diffMode{tcpdump: "tcpdump", weir: "weir", optimize: true}
	unoptimizedMode = diffMode{tcpdump: "tcpdump -O", weir: "weir -O", tcpdumpArgs: []string{"-O"}}
)

// verdict is what a filter made of one expression on one capture.
type verdict struct {
	rejected bool   // the expression did not compile
	message  string // the compile error
	kept     []int  // numbers (1-based, as tshark counts) of the packets kept
	failure  string // the filter broke (a panic, an unreadable output): always a difference
}

// diffExpression is one line of the expression table.
type diffExpression struct {
	text       string
	line       int
	wantReject bool // "reject:" lines: tcpdump rejects it on every link type
}

// diffCapture is one capture file, its records parsed independently of the
// pcap package so that tcpdump's side does not depend on the code under test.
type diffCapture struct {
	name    string
	path    string
	records []rawRecord
}

func TestTcpdumpDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tcpdump a few thousand times; skipped with -short")
	}
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	captures := loadDiffCaptures(t)
	exprs := loadDiffExpressions(t)
	modes := []diffMode{optimizedMode}
	if *diffUnoptimized {
		modes = append(modes, unoptimizedMode)
	}

	references := make([][][]verdict, len(modes))
	for i, mode := range modes {
		references[i] = runTcpdumpAll(tcpdump, mode, captures, exprs)
		checkReferenceTable(t, mode, captures, exprs, references[i])
	}
	if t.Failed() {
		return
	}

	packets := readWithWeir(t, captures)
	var diffs []string
	for i, mode := range modes {
		subject := func(ci, ei int) verdict { return weirVerdict(packets[ci], exprs[ei].text, mode.optimize) }
		ref := func(ci, ei int) verdict { return references[i][ei][ci] }
		diffs = append(diffs, compareAll(mode, captures, exprs, ref, subject)...)
	}
	for i, d := range diffs {
		if i == maxReported {
			t.Errorf("... %d differences in all, the first %d shown", len(diffs), maxReported)
			break
		}
		t.Error(d)
	}
}

// compareAll lists the differences between the reference verdicts and the
// subject's for every (capture, expression) pair.
func compareAll(mode diffMode, captures []diffCapture, exprs []diffExpression, ref, subject func(ci, ei int) verdict) []string {
	var diffs []string
	for ei, e := range exprs {
		for ci, c := range captures {
			if d := compareVerdicts(mode, ref(ci, ei), subject(ci, ei)); d != "" {
				diffs = append(diffs, fmt.Sprintf("%s on %s: %s", e.text, c.name, d))
			}
		}
	}
	return diffs
}

// compareVerdicts describes how weir's verdict differs from tcpdump's, or
// returns "" when they agree.
func compareVerdicts(mode diffMode, want, got verdict) string {
	switch {
	case got.failure != "":
		return fmt.Sprintf("%s failed: %s", mode.weir, got.failure)
	case want.rejected && got.rejected:
		return ""
	case want.rejected:
		return fmt.Sprintf("%s rejected it (%s), %s kept %s", mode.tcpdump, want.message, mode.weir, formatPackets(got.kept))
	case got.rejected:
		return fmt.Sprintf("%s kept %s, %s rejected it: %s", mode.tcpdump, formatPackets(want.kept), mode.weir, got.message)
	case !slices.Equal(want.kept, got.kept):
		return fmt.Sprintf("%s kept %s, %s kept %s", mode.tcpdump, formatPackets(want.kept), mode.weir, formatPackets(got.kept))
	}
	return ""
}

// formatPackets writes packet numbers as ranges: [3-7,12].
func formatPackets(numbers []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < len(numbers); {
		j := i
		for j+1 < len(numbers) && numbers[j+1] == numbers[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(numbers[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(numbers[j]))
		}
		i = j + 1
	}
	b.WriteByte(']')
	return b.String()
}

// checkReferenceTable fails on expressions tcpdump rejects everywhere
// unless marked "reject:", and on "reject:" lines it accepts somewhere; it
// logs what tcpdump did.
func checkReferenceTable(t *testing.T, mode diffMode, captures []diffCapture, exprs []diffExpression, reference [][]verdict) {
	t.Helper()
	rejectedPairs, keptTotal := 0, make([]int, len(captures))
	for ei, e := range exprs {
		var acceptedOn []string
		for ci, c := range captures {
			v := reference[ei][ci]
			if v.failure != "" {
				t.Fatalf("%s on %s with %q: %s", mode.tcpdump, c.name, e.text, v.failure)
			}
			if v.rejected {
				rejectedPairs++
				continue
			}
			acceptedOn = append(acceptedOn, c.name)
			keptTotal[ci] += len(v.kept)
		}
		switch {
		case mode.tcpdumpArgs != nil: // the table's marks are for tcpdump's defaults
		case e.wantReject && len(acceptedOn) > 0:
			t.Errorf("%s:%d: %q is marked reject: but tcpdump accepts it on %s", diffExpressionFile, e.line, e.text, strings.Join(acceptedOn, ", "))
		case !e.wantReject && len(acceptedOn) == 0:
			t.Errorf("%s:%d: tcpdump rejects %q on every link type (a typo?): %s", diffExpressionFile, e.line, e.text, reference[ei][0].message)
		}
	}
	t.Logf("%s: %d expressions x %d captures, %d pairs rejected", mode.tcpdump, len(exprs), len(captures), rejectedPairs)
	for ci, c := range captures {
		t.Logf("%s: %s: %d packets, %d kept over all expressions", mode.tcpdump, c.name, len(c.records), keptTotal[ci])
	}
}

func loadDiffExpressions(t *testing.T) []diffExpression {
	t.Helper()
	data, err := os.ReadFile(diffExpressionFile)
	if err != nil {
		t.Fatal(err)
	}
	exprs, err := parseExpressionTable(string(data))
	if err != nil {
		t.Fatalf("%s: %v", diffExpressionFile, err)
	}
	return exprs
}

// parseExpressionTable reads one expression per line; blank lines and
// lines starting with '#' are skipped, "reject: " marks an expression
// tcpdump must reject.
func parseExpressionTable(text string) ([]diffExpression, error) {
	var exprs []diffExpression
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e := diffExpression{text: line, line: i + 1}
		if rest, ok := strings.CutPrefix(line, "reject:"); ok {
			e.text, e.wantReject = strings.TrimSpace(rest), true
		}
		if prev, dup := seen[e.text]; dup {
			return nil, fmt.Errorf("line %d repeats line %d: %q", e.line, prev, e.text)
		}
		seen[e.text] = e.line
		exprs = append(exprs, e)
	}
	if len(exprs) == 0 {
		return nil, errors.New("no expressions")
	}
	return exprs, nil
}

func loadDiffCaptures(t *testing.T) []diffCapture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(diffCaptureDir, "*.pcap"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures in %s (go run ./internal/cmd/gencaptures): %v", diffCaptureDir, err)
	}
	var captures []diffCapture
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		records, err := parseRawPcap(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		captures = append(captures, diffCapture{name: filepath.Base(p), path: p, records: records})
	}
	return captures
}

// runTcpdumpAll runs tcpdump for every pair, in parallel; the result is
// indexed [expression][capture].
func runTcpdumpAll(tcpdump string, mode diffMode, captures []diffCapture, exprs []diffExpression) [][]verdict {
	out := make([][]verdict, len(exprs))
	for i := range out {
		out[i] = make([]verdict, len(captures))
	}
	type pair struct{ ei, ci int }
	jobs := make(chan pair)
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				out[p.ei][p.ci] = runTcpdump(tcpdump, mode.tcpdumpArgs, captures[p.ci], exprs[p.ei].text)
			}
		}()
	}
	for ei := range exprs {
		for ci := range captures {
			jobs <- pair{ei, ci}
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

// runTcpdump filters a capture with tcpdump, the output going to a pipe
// (tcpdump may drop root privileges before opening an output file).
func runTcpdump(tcpdump string, extraArgs []string, c diffCapture, expr string) verdict {
	args := append(slices.Clone(extraArgs), "-r", c.path, "-w", "-", "--", expr)
	cmd := exec.Command(tcpdump, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return verdict{failure: err.Error()}
		}
		return verdict{rejected: true, message: lastLine(stderr.String())}
	}
	records, err := parseRawPcap(stdout.Bytes())
	if err != nil {
		return verdict{failure: "reading tcpdump's output: " + err.Error()}
	}
	kept, err := matchRecords(c.records, records)
	if err != nil {
		return verdict{failure: err.Error()}
	}
	return verdict{kept: kept}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimPrefix(lines[len(lines)-1], "tcpdump: ")
}

// matchRecords numbers the output records by their place in the input:
// the output is a subsequence of the input, and identical records get
// identical verdicts, so the earliest match is the right one.
func matchRecords(input, output []rawRecord) ([]int, error) {
	kept := []int{}
	next := 0
	for _, o := range output {
		for next < len(input) && !input[next].equal(o) {
			next++
		}
		if next == len(input) {
			return nil, fmt.Errorf("output record at %d.%06d is not in the input", o.seconds, o.fraction)
		}
		kept = append(kept, next+1)
		next++
	}
	return kept, nil
}

// rawRecord is one record of a classic pcap file.
type rawRecord struct {
	seconds, fraction uint32
	wireLength        uint32
	data              []byte
}

func (r rawRecord) equal(o rawRecord) bool {
	return r.seconds == o.seconds && r.fraction == o.fraction && r.wireLength == o.wireLength && bytes.Equal(r.data, o.data)
}

// parseRawPcap reads a classic pcap file in either byte order.
func parseRawPcap(data []byte) ([]rawRecord, error) {
	if len(data) < 24 {
		return nil, errors.New("short pcap file header")
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(data) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return nil, fmt.Errorf("not a pcap file (magic %x)", data[:4])
	}
	records := []rawRecord{}
	for off := 24; off < len(data); {
		if len(data)-off < 16 {
			return nil, fmt.Errorf("short record header at offset %d", off)
		}
		h := data[off : off+16]
		n := int(order.Uint32(h[8:]))
		if len(data)-off-16 < n {
			return nil, fmt.Errorf("short record at offset %d", off)
		}
		records = append(records, rawRecord{
			seconds: order.Uint32(h[0:]), fraction: order.Uint32(h[4:]),
			wireLength: order.Uint32(h[12:]), data: data[off+16 : off+16+n],
		})
		off += 16 + n
	}
	return records, nil
}

// weirPackets is a capture as weir's reader sees it.
type weirPackets struct {
	linkType  pcap.LinkType
	bigEndian bool
	data      [][]byte
	lengths   []int
}

func readWithWeir(t *testing.T, captures []diffCapture) []weirPackets {
	t.Helper()
	out := make([]weirPackets, len(captures))
	for i, c := range captures {
		f, err := os.Open(c.path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcap.NewReader(bufio.NewReader(f))
		if err != nil {
			f.Close()
			t.Fatalf("%s: pcap.NewReader: %v", c.name, err)
		}
		out[i].linkType = r.LinkType()
		out[i].bigEndian = r.BigEndian()
		for {
			data, ci, err := r.ReadPacket()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				t.Fatalf("%s: packet %d: %v", c.name, len(out[i].data)+1, err)
			}
			out[i].data = append(out[i].data, slices.Clone(data))
			out[i].lengths = append(out[i].lengths, ci.Length)
		}
		f.Close()
		if len(out[i].data) != len(c.records) {
			t.Fatalf("%s: pcap.Reader read %d packets, the file has %d", c.name, len(out[i].data), len(c.records))
		}
	}
	return out
}

// weirVerdict compiles expr for the capture's link type and runs it on
// every packet; a panic becomes a failure rather than ending the test.
func weirVerdict(p weirPackets, expr string, optimize bool) (v verdict) {
	defer func() {
		if r := recover(); r != nil {
			v = verdict{failure: fmt.Sprint("panic: ", r)}
		}
	}()
	prog, err := Compile(expr, Config{LinkType: p.linkType, Optimize: optimize, Savefile: true, SavefileBigEndian: p.bigEndian})
	if err != nil {
		return verdict{rejected: true, message: err.Error()}
	}
	kept := []int{}
	for i, data := range p.data {
		if Run(prog, data, p.lengths[i]) > 0 {
			kept = append(kept, i+1)
		}
	}
	return verdict{kept: kept}
}

func TestFormatPackets(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, "[]"},
		{[]int{5}, "[5]"},
		{[]int{1, 2}, "[1-2]"},
		{[]int{3, 4, 5, 6, 7, 12}, "[3-7,12]"},
		{[]int{1, 3, 5, 6}, "[1,3,5-6]"},
	} {
		if got := formatPackets(tc.in); got != tc.want {
			t.Errorf("formatPackets(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCompareAllReportsDifferences(t *testing.T) {
	captures := []diffCapture{{name: "a.pcap"}, {name: "b.pcap"}}
	exprs := []diffExpression{{text: "tcp"}, {text: "arp"}, {text: "ip and ip6"}}
	ref := func(ci, ei int) verdict {
		switch {
		case ei == 0:
			return verdict{kept: []int{3, 4, 5, 6, 7, 12}}
		case ei == 1 && ci == 1:
			return verdict{rejected: true, message: "arp not supported"}
		case ei == 2:
			return verdict{rejected: true, message: "expression rejects all packets"}
		}
		return verdict{kept: []int{}}
	}
	subject := func(ci, ei int) verdict {
		switch {
		case ei == 0 && ci == 0:
			return verdict{kept: []int{3, 4, 5, 6, 7}}
		case ei == 0:
			return verdict{kept: []int{3, 4, 5, 6, 7, 12}}
		case ei == 1 && ci == 0:
			return verdict{rejected: true, message: "filter: oops"}
		case ei == 1:
			return verdict{kept: []int{1}}
		case ci == 0:
			return verdict{kept: []int{}}
		}
		return verdict{failure: "panic: boom"}
	}
	got := compareAll(optimizedMode, captures, exprs, ref, subject)
	want := []string{
		"tcp on a.pcap: tcpdump kept [3-7,12], weir kept [3-7]",
		"arp on a.pcap: tcpdump kept [], weir rejected it: filter: oops",
		"arp on b.pcap: tcpdump rejected it (arp not supported), weir kept [1]",
		"ip and ip6 on a.pcap: tcpdump rejected it (expression rejects all packets), weir kept []",
		"ip and ip6 on b.pcap: weir failed: panic: boom",
	}
	if !slices.Equal(got, want) {
		t.Errorf("optimized:\n got %q\nwant %q", got, want)
	}
	got = compareAll(unoptimizedMode, captures, exprs, ref, subject)
	if want := "tcp on a.pcap: tcpdump -O kept [3-7,12], weir -O kept [3-7]"; len(got) != 5 || got[0] != want {
		t.Errorf("unoptimized: got %q, want 5 differences starting with %q", got, want)
	}
}

func TestParseExpressionTable(t *testing.T) {
	exprs, err := parseExpressionTable("# comment\n\ntcp port 80\n  reject: port 70000  \nudp\n")
	if err != nil {
		t.Fatal(err)
	}
	want := []diffExpression{{"tcp port 80", 3, false}, {"port 70000", 4, true}, {"udp", 5, false}}
	if !slices.Equal(exprs, want) {
		t.Errorf("got %+v, want %+v", exprs, want)
	}
	if _, err := parseExpressionTable("tcp\nreject: tcp\n"); err == nil {
		t.Error("a repeated expression was accepted")
	}
	if _, err := parseExpressionTable("# nothing\n"); err == nil {
		t.Error("an empty table was accepted")
	}
}

func TestTcpdumpOutputMapsToPacketNumbers(t *testing.T) {
	var input, output bytes.Buffer
	in, err := pcap.NewWriter(&input, pcap.FileHeader{LinkType: pcap.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	out, err := pcap.NewWriter(&output, pcap.FileHeader{LinkType: pcap.LinkTypeRaw})
	if err != nil {
		t.Fatal(err)
	}
	packets := [][]byte{{1}, {2, 2}, {1}, {3, 3, 3}, {1}}
	for i, p := range packets {
		ci := pcap.CaptureInfo{Length: len(p) + i%2}
		if err := in.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
		if i == 1 || i >= 3 { // a filter keeping packets 2, 4 and 5
			if err := out.WritePacket(ci, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := errors.Join(in.Flush(), out.Flush()); err != nil {
		t.Fatal(err)
	}
	inRecords, err := parseRawPcap(input.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	outRecords, err := parseRawPcap(output.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(inRecords) != len(packets) || inRecords[3].wireLength != 4 || !bytes.Equal(inRecords[3].data, packets[3]) {
		t.Fatalf("parsed input records %+v", inRecords)
	}
	kept, err := matchRecords(inRecords, outRecords)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 4, 5}; !slices.Equal(kept, want) {
		t.Errorf("kept %v, want %v", kept, want)
	}
	stranger := rawRecord{seconds: 9, data: []byte{9}}
	if _, err := matchRecords(inRecords, []rawRecord{stranger}); err == nil {
		t.Error("a record absent from the input was matched")
	}
	if _, err := parseRawPcap(input.Bytes()[:30]); err == nil {
		t.Error("a truncated record was accepted")
	}
}
