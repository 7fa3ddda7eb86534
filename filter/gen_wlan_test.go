package filter

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// The 802.11 golden holds, for every line of testdata/wlan/expressions.txt,
// the program tcpdump -O -ddd prints (or its error), with -y LINKTYPE or,
// for "file:" lines, reading an empty capture of that link type.
// go test -run TestWLAN -update regenerates it from the local tcpdump.
var (
	wlanExpressions = filepath.Join("testdata", "wlan", "expressions.txt")
	wlanGolden      = filepath.Join("testdata", "wlan", "tcpdump.golden")
)

// wlanEntry is one expression of the golden and what tcpdump made of it.
type wlanEntry struct {
	linkType string
	savefile bool
	expr     string
	program  Program // nil when tcpdump rejects the expression
	err      string  // tcpdump's message when it does
}

func (e wlanEntry) name() string {
	if e.savefile {
		return "file:" + e.linkType + " " + e.expr
	}
	return e.linkType + " " + e.expr
}

func (e wlanEntry) config(t testing.TB) Config {
	lt, ok := pcap.LinkTypeByName(e.linkType)
	if !ok {
		t.Fatalf("golden names unknown link type %q", e.linkType)
	}
	return Config{LinkType: lt, Savefile: e.savefile, Resolver: offlineResolver{}}
}

// TestWLANMatchesTcpdump holds the 802.11 code generation to libpcap's:
// identical unoptimized programs, and the same error where tcpdump has one.
func TestWLANMatchesTcpdump(t *testing.T) {
	if testutil.Update() {
		writeWLANGolden(t)
	}
	entries := readWLANGolden(t)
	programs, errs := 0, 0
	for _, e := range entries {
		got, err := Compile(e.expr, e.config(t))
		if e.err != "" {
			var ce *Error
			switch {
			case err == nil:
				t.Errorf("%s: tcpdump rejects it (%s), weir compiles it", e.name(), e.err)
			case !errors.As(err, &ce) || ce.Msg != e.err:
				t.Errorf("%s: weir says %v, tcpdump %q", e.name(), err, e.err)
			default:
				errs++
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: tcpdump compiles it, weir: %v", e.name(), err)
			continue
		}
		if libpcapReadsUnsetSlot(e, e.config(t).LinkType) {
			continue // weir fills the slots; TestWLANProgramsValidate checks it
		}
		if !slices.Equal(got, e.program) {
			t.Errorf("%s:\n%s", e.name(), lineDiff(Dump(e.program, DumpAssembly), Dump(got, DumpAssembly)))
			continue
		}
		programs++
	}
	if programs < 300 || errs < 50 {
		t.Errorf("only %d programs and %d errors compared; the golden looks truncated", programs, errs)
	}
}

// readWLANGolden parses "=== [file:]LINKTYPE\tEXPR" headers, each followed
// by tcpdump's -ddd lines or one "error: MESSAGE" line.
func readWLANGolden(t testing.TB) []wlanEntry {
	t.Helper()
	f, err := os.Open(wlanGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []wlanEntry
	var body []string
	flush := func() {
		if len(entries) == 0 {
			return
		}
		e := &entries[len(entries)-1]
		if len(body) == 1 && strings.HasPrefix(body[0], "error: ") {
			e.err = strings.TrimPrefix(body[0], "error: ")
		} else if e.program, err = parseDumpDecimal(body); err != nil {
			t.Fatalf("%s: %s: %v", wlanGolden, e.name(), err)
		}
		body = nil
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		head, ok := strings.CutPrefix(line, "=== ")
		if !ok {
			body = append(body, line)
			continue
		}
		flush()
		lt, expr, _ := strings.Cut(head, "\t")
		lt, file := strings.CutPrefix(lt, "file:")
		entries = append(entries, wlanEntry{linkType: lt, savefile: file, expr: expr})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return entries
}

// parseDumpDecimal reads tcpdump -ddd output: a count, then "op jt jf k".
func parseDumpDecimal(lines []string) (Program, error) {
	if len(lines) == 0 {
		return nil, errors.New("empty dump")
	}
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 {
		return nil, fmt.Errorf("count line %q for %d instructions", lines[0], len(lines)-1)
	}
	var p Program
	for _, line := range lines[1:] {
		var op, jt, jf, k uint64
		if _, err := fmt.Sscan(line, &op, &jt, &jf, &k); err != nil {
			return nil, fmt.Errorf("line %q: %v", line, err)
		}
		p = append(p, Instruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)})
	}
	return p, nil
}

// writeWLANGolden runs the local tcpdump on every expression.
func writeWLANGolden(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	list, err := os.ReadFile(wlanExpressions)
	if err != nil {
		t.Fatal(err)
	}
	var entries []wlanEntry
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		lt, expr, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: line %q lacks a tab", wlanExpressions, line)
		}
		lt, file := strings.CutPrefix(lt, "file:")
		entries = append(entries, wlanEntry{linkType: lt, savefile: file, expr: expr})
	}
	captures := map[string]string{} // link type name -> empty capture
	for _, e := range entries {
		if e.savefile && captures[e.linkType] == "" {
			captures[e.linkType] = emptyCapture(t, e.config(t).LinkType)
		}
	}
	outs := make([]string, len(entries))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outs[i] = runTcpdumpWLAN(t, tcpdump, captures[entries[i].linkType], entries[i])
		}()
	}
	wg.Wait()
	var b strings.Builder
	for i, e := range entries {
		lt := e.linkType
		if e.savefile {
			lt = "file:" + lt
		}
		fmt.Fprintf(&b, "=== %s\t%s\n%s", lt, e.expr, outs[i])
	}
	if err := os.WriteFile(wlanGolden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runTcpdumpWLAN returns tcpdump's -ddd dump, or "error: MESSAGE\n".
func runTcpdumpWLAN(t *testing.T, tcpdump, capture string, e wlanEntry) string {
	args := []string{"-O", "-ddd"}
	if e.savefile {
		args = append(args, "-r", capture)
	} else {
		args = append(args, "-y", e.linkType)
	}
	cmd := exec.Command(tcpdump, append(args, "--", e.expr)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		return string(out)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if msg, ok := strings.CutPrefix(line, "tcpdump: "); ok {
			return "error: " + msg + "\n"
		}
	}
	t.Fatalf("tcpdump %v: %v: %s", args, err, stderr.String())
	return ""
}

// emptyCapture writes a pcap file with no packets: a global header naming
// the link type, with tcpdump's default snap length.
func emptyCapture(t *testing.T, lt pcap.LinkType) string {
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], DefaultSnaplen)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(lt))
	path := filepath.Join(t.TempDir(), lt.Name()+".pcap")
	if err := os.WriteFile(path, hdr, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// libpcapReadsUnsetSlot tells the 802.11 expressions where libpcap 1.10
// reads a scratch slot it never stored: after "geneve", and after
// "pppoes" behind a radio header, the payload's or the radio header's
// slot is replaced before the code that fills it is placed, so the tests
// before the encapsulation read an empty slot (and tcpdump's verdicts
// depend on what its stack held). weir fills the capture's own slots
// instead, so its program differs there, and validates.
func libpcapReadsUnsetSlot(e wlanEntry, lt pcap.LinkType) bool {
	return strings.Contains(e.expr, "geneve") || strings.Contains(e.expr, "pppoes") && hasRadioHeader(lt)
}

// TestWLANProgramsValidate: the kernel's checks accept every 802.11
// program weir compiles; of tcpdump's, all but those reading an unset
// slot, where Validate names the fault.
func TestWLANProgramsValidate(t *testing.T) {
	for _, e := range readWLANGolden(t) {
		if e.err != "" {
			continue
		}
		broken := libpcapReadsUnsetSlot(e, e.config(t).LinkType)
		err := Validate(e.program)
		switch {
		case broken && (err == nil || !strings.Contains(err.Error(), "loaded before a store")):
			t.Errorf("%s: Validate says %v of tcpdump's program, want a load before a store", e.name(), err)
		case !broken && err != nil:
			t.Errorf("%s: %v", e.name(), err)
		}
		for _, optimize := range []bool{false, true} {
			cfg := e.config(t)
			cfg.Optimize = optimize
			p, err := Compile(e.expr, cfg)
			if err != nil {
				t.Errorf("%s: %v", e.name(), err)
				continue
			}
			if err := Validate(p); err != nil {
				t.Errorf("%s (optimize %v): weir's program: %v", e.name(), optimize, err)
			}
		}
	}
}
