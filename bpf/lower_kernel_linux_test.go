package bpf

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// Kernel-verified equivalence on the project's own captures: every
// expression of the filter package's differential table (and a few more),
// compiled as the filter package's kernel test compiles it for each
// capture's link type, is lowered for every target, loaded (the verifier
// must accept it) and run on the capture's packets; every verdict must
// equal filter.Run's.

const (
	captureDir     = "../testdata/captures"
	expressionFile = "../filter/testdata/diff/expressions.txt"
)

// extraExpressions join the table: backward jumps, metadata in live form,
// shifts by X, loads at the packet's end and past it, division by X.
var extraExpressions = []string{
	"protochain 6", "ip6 protochain 17", "protochain 58", "ip protochain 6",
	"protochain 50", "protochain 17 and udp port 123", "not protochain 59",
	"inbound", "outbound and tcp", "ifindex 2", "vlan 100",
	"ip[0] << ip[9] = 0", "ip[0] >> (ip[9] - 10) = 1", "ip[2:2] / (ip[9] - 6) > 10",
	"ip[2:2] % (ip[9] - 17) = 3", "ether[-1] = 1", "ether[len - 1] = 0x33",
	"ip[len - 15] & 1 = 1", "ether[1500:4] = 0", "len >= 1000", "-ip[0] = 0xffffffbb",
}

// compileMode is one way of compiling, as the filter package's kernel test.
type compileMode struct {
	name     string
	optimize bool
	snaplen  uint32
	live     bool
}

var compileModes = []compileMode{
	{name: "unoptimized"},
	{name: "optimized", optimize: true},
	{name: "optimized, snaplen 96", optimize: true, snaplen: 96},
	{name: "optimized, live", optimize: true, live: true},
}

// capture is one file's packets.
type capture struct {
	name      string
	linkType  pcap.LinkType
	bigEndian bool
	packets   [][]byte
}

// job is one program to check on one capture.
type job struct {
	expr    string
	mode    string
	capture *capture
	prog    filter.Program
}

// tally counts what the checks did.
type tally struct {
	programs      int           // classic programs checked
	loaded        int           // eBPF programs the verifier accepted
	xdpRefusals   int           // programs Lower refuses at XDP (ancillary data)
	metadataOnly  int           // eBPF programs reading kernel metadata: verified, verdicts skipped
	verdicts      int           // verdicts compared
	skipped       int           // packets a test run cannot take (size)
	largest       int           // instructions of the largest program verified
	largestExpr   string        // its expression
	loadTime      time.Duration // summed over workers
	slowest       time.Duration // the longest load
	slowestName   string        // its program
	lowerFailures int
}

func (a *tally) add(b tally) {
	a.programs += b.programs
	a.loaded += b.loaded
	a.xdpRefusals += b.xdpRefusals
	a.metadataOnly += b.metadataOnly
	a.verdicts += b.verdicts
	a.skipped += b.skipped
	a.loadTime += b.loadTime
	a.lowerFailures += b.lowerFailures
	if b.slowest > a.slowest {
		a.slowest, a.slowestName = b.slowest, b.slowestName
	}
	if b.largest > a.largest {
		a.largest, a.largestExpr = b.largest, b.largestExpr
	}
}

func (a tally) String() string {
	return fmt.Sprintf("%d classic programs; %d eBPF programs verified (largest %d instructions, %q; %v loading in all); "+
		"%d refused at XDP for reading socket metadata; %d read metadata (verdicts skipped); "+
		"%d verdicts compared; %d packet runs skipped (XDP and tc test runs take %d to %d bytes, tc's no IP frame cut inside its header); slowest load %v: %s",
		a.programs, a.loaded, a.largest, a.largestExpr, a.loadTime.Round(time.Millisecond),
		a.xdpRefusals, a.metadataOnly, a.verdicts, a.skipped, minTestRun, maxTestRun, a.slowest.Round(time.Millisecond), a.slowestName)
}

func TestKernelVerdictsEqualRun(t *testing.T) {
	requireBPF(t)
	captures := readCaptures(t, captureDir)
	exprs := append(readExpressions(t, expressionFile), extraExpressions...)
	all := compileJobs(captures, exprs, compileModes)
	jobs, sample := sampleJobs(all)
	stride := 1
	if testing.Short() {
		stride = 5
	}
	total, diffs := checkJobs(t, jobs, stride)
	reportDiffs(t, diffs)
	t.Logf("%d expressions x %d captures x %d modes: %d distinct programs, %s checked; %s (every %d packet(s))",
		len(exprs), len(captures), len(compileModes), len(all), sample, total, stride)
	if total.verdicts == 0 || total.loaded == 0 {
		t.Error("nothing was compared")
	}
}

var checkAll = flag.Bool("kernel.all", false, "check every compiled program in the kernel, not a sample (a few minutes)")

// sampleJobs keeps the test fast: loading dominates (protochain's bounded
// loop takes the verifier a few hundred milliseconds), so every optimized
// program is checked and a quarter of the others, by their order (an
// eighth and a half with -short), unless -kernel.all.
func sampleJobs(jobs []job) ([]job, string) {
	if *checkAll {
		return jobs, "all"
	}
	optimized, others := 1, 4
	if testing.Short() {
		optimized, others = 2, 8
	}
	var out []job
	n := map[string]int{}
	for _, j := range jobs {
		every := others
		if j.mode == "optimized" {
			every = optimized
		}
		if n[j.mode]%every == 0 {
			out = append(out, j)
		}
		n[j.mode]++
	}
	return out, fmt.Sprintf("%d (every optimized program and one in %d of the others)", len(out), others)
}

// readCaptures reads every capture file of dir (pcap or pcapng).
func readCaptures(t testing.TB, dir string) []*capture {
	t.Helper()
	var paths []string
	for _, pattern := range []string{"*.pcap", "*.pcapng"} {
		found, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, found...)
	}
	slices.Sort(paths)
	if len(paths) == 0 {
		t.Fatalf("no captures in %s", dir)
	}
	var out []*capture
	for _, p := range paths {
		byLink, err := readCapture(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out = append(out, byLink...)
	}
	return out
}

// readCapture reads one file, its packets grouped by link type (a pcapng
// file may mix them).
func readCapture(path string) ([]*capture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := pcap.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	groups := map[pcap.LinkType]*capture{}
	var out []*capture
	for {
		data, ci, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		lt := ci.LinkType
		c := groups[lt]
		if c == nil {
			c = &capture{name: filepath.Base(path), linkType: lt, bigEndian: r.BigEndian()}
			if len(out) > 0 {
				c.name += fmt.Sprintf(" (link type %d)", lt)
			}
			groups[lt] = c
			out = append(out, c)
		}
		c.packets = append(c.packets, slices.Clone(data))
	}
	return out, nil
}

// readExpressions reads a table of expressions, one a line, leaving out
// comments and the "reject:" lines tcpdump refuses.
func readExpressions(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "reject:") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// compileJobs compiles every expression for every capture in every mode,
// keeping each distinct program once per capture.
func compileJobs(captures []*capture, exprs []string, modes []compileMode) []job {
	var out []job
	for _, c := range captures {
		seen := map[string]bool{}
		for _, e := range exprs {
			for _, m := range modes {
				cfg := filter.Config{LinkType: c.linkType, Optimize: m.optimize, Snaplen: m.snaplen, Savefile: !m.live, SavefileBigEndian: c.bigEndian}
				prog, err := filter.Compile(e, cfg)
				if err != nil {
					continue
				}
				key := fmt.Sprint(prog)
				if seen[key] {
					continue
				}
				seen[key] = true
				out = append(out, job{expr: e, mode: m.name, capture: c, prog: prog})
			}
		}
	}
	return out
}

// checkJobs runs the jobs on one worker per CPU and target.
func checkJobs(t testing.TB, jobs []job, stride int) (tally, []string) {
	var (
		mu    sync.Mutex
		total tally
		diffs []string
		wg    sync.WaitGroup
	)
	queue := make(chan job)
	for w := 0; w < runtime.NumCPU(); w++ {
		runners := map[Target]*kernelRunner{}
		for _, tg := range []Target{TargetSocketFilter, TargetXDP, TargetTCX} {
			r, err := newKernelRunner(tg)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			runners[tg] = r
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				got, d := checkJob(runners, j, stride)
				mu.Lock()
				total.add(got)
				if d != "" {
					diffs = append(diffs, fmt.Sprintf("%q on %s (%s): %s", j.expr, j.capture.name, j.mode, d))
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		queue <- j
	}
	close(queue)
	wg.Wait()
	return total, diffs
}

// checkJob lowers one program for every target, loads it and compares
// verdicts on every stride-th packet; it returns the first difference.
func checkJob(runners map[Target]*kernelRunner, j job, stride int) (tally, string) {
	got := tally{programs: 1}
	metadata := readsAncillary(j.prog)
	for _, tg := range []Target{TargetSocketFilter, TargetXDP, TargetTCX} {
		frag, err := Lower(j.prog, tg)
		if err != nil {
			if tg == TargetXDP && metadata {
				got.xdpRefusals++
				continue
			}
			got.lowerFailures++
			return got, fmt.Sprintf("%v: Lower: %v", tg, err)
		}
		start := time.Now()
		prog, err := loadFragment(tg, frag)
		took := time.Since(start)
		got.loadTime += took
		if took > got.slowest {
			got.slowest, got.slowestName = took, fmt.Sprintf("%q on %s (%s) at %v", j.expr, j.capture.name, j.mode, tg)
		}
		if err != nil {
			return got, fmt.Sprintf("%v: the verifier refuses it: %v\n%s", tg, err, Format(frag))
		}
		got.loaded++
		if n := len(frag); n > got.largest {
			got.largest, got.largestExpr = n, j.expr
		}
		if metadata {
			got.metadataOnly++
			prog.Close()
			continue
		}
		d := compareVerdicts(runners[tg], prog, j, stride, &got)
		prog.Close()
		if d != "" {
			return got, fmt.Sprintf("%v: %s\n%s\n%s", tg, d, filter.Dump(j.prog, filter.DumpAssembly), Format(frag))
		}
	}
	return got, ""
}

// compareVerdicts runs prog on every stride-th packet of the capture; it
// returns the first difference with filter.Run.
func compareVerdicts(r *kernelRunner, prog *ebpf.Program, j job, stride int, got *tally) string {
	if err := r.use(prog); err != nil {
		return err.Error()
	}
	for i := 0; i < len(j.capture.packets); i += stride {
		data := j.capture.packets[i]
		if !r.runnable(data) {
			got.skipped++
			continue
		}
		want := filter.Run(j.prog, data, len(data))
		ok, what, err := r.matches(prog, data, want)
		if err != nil {
			return fmt.Sprintf("packet %d: %v", i+1, err)
		}
		got.verdicts++
		if !ok {
			return fmt.Sprintf("packet %d (%d bytes): the kernel %s, filter.Run returned %d", i+1, len(data), what, want)
		}
	}
	return ""
}

// reportDiffs fails the test with the first differences.
func reportDiffs(t testing.TB, diffs []string) {
	t.Helper()
	const shown = 20
	for i, d := range diffs {
		if i == shown {
			t.Errorf("... %d differences in all, the first %d shown", len(diffs), shown)
			break
		}
		t.Error(d)
	}
}
