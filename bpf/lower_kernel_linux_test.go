package bpf

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/weircap/weir/filter"
)

// Kernel-verified equivalence on the project's own captures: every
// expression of the filter package's differential table (and a few more),
// compiled as the filter package's kernel test compiles it for each
// capture's link type, is lowered for every target, loaded (the verifier
// must accept it) and run on the capture's packets; every verdict must
// equal filter.Run's.

// tally counts what the checks did.
type tally struct {
	programs      int             // classic programs checked
	loaded        int             // eBPF programs the verifier accepted
	xdpRefusals   int             // programs Lower refuses at XDP (ancillary data)
	metadataOnly  int             // eBPF programs reading kernel metadata: verified, verdicts skipped
	verdicts      int             // verdicts compared
	skipped       int             // packets a test run cannot take (size)
	beyondBound   int             // verdicts 0 for taking more than MaxBackwardJumps backward jumps, where filter.Run's are not
	beyondIn      map[string]bool // captures of those packets
	largest       int             // instructions of the largest program verified
	largestExpr   string          // its expression
	loadTime      time.Duration   // summed over workers
	loopLoadTime  time.Duration   // the part of it for programs with backward jumps
	slowest       time.Duration   // the longest load
	slowestName   string          // its program
	lowerFailures int
}

func (a *tally) add(b tally) {
	a.programs += b.programs
	a.loaded += b.loaded
	a.xdpRefusals += b.xdpRefusals
	a.metadataOnly += b.metadataOnly
	a.verdicts += b.verdicts
	a.skipped += b.skipped
	a.beyondBound += b.beyondBound
	a.loadTime += b.loadTime
	a.loopLoadTime += b.loopLoadTime
	a.lowerFailures += b.lowerFailures
	if b.slowest > a.slowest {
		a.slowest, a.slowestName = b.slowest, b.slowestName
	}
	if b.largest > a.largest {
		a.largest, a.largestExpr = b.largest, b.largestExpr
	}
}

func (a tally) String() string {
	return fmt.Sprintf("%d classic programs; %d eBPF programs verified (largest %d instructions, %q; %v loading in all, %v of it for programs with loops); "+
		"%d refused at XDP for reading socket metadata; %d read metadata (verdicts skipped); "+
		"%d verdicts compared, %d of them 0 for taking more than %d backward jumps where filter.Run's is not; %d packet runs skipped (XDP and tc test runs take %d to %d bytes, tc's no IP frame cut inside its header); slowest load %v: %s",
		a.programs, a.loaded, a.largest, a.largestExpr, a.loadTime.Round(time.Millisecond), a.loopLoadTime.Round(time.Millisecond),
		a.xdpRefusals, a.metadataOnly, a.verdicts, a.beyondBound, MaxBackwardJumps, a.skipped, minTestRun, maxTestRun, a.slowest.Round(time.Millisecond), a.slowestName)
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
	total, diffs, _ := checkJobs(t, jobs, stride)
	reportDiffs(t, jobs, diffs)
	t.Logf("%d expressions x %d captures x %d modes: %d distinct programs, %s checked; %s (every %d packet(s))",
		len(exprs), len(captures), len(compileModes), len(all), sample, total, stride)
	if total.verdicts == 0 || total.loaded == 0 {
		t.Error("nothing was compared")
	}
}

var checkAll = flag.Bool("kernel.all", false, "check every compiled program in the kernel, not a sample (a few minutes)")

// sampleJobs keeps the test fast: loading dominates (protochain's bounded
// loop takes the verifier a few hundred milliseconds), so every optimized
// program is checked, a quarter of the others and an eighth of those with
// loops, by their order (half as many with -short), unless -kernel.all.
func sampleJobs(jobs []job) ([]job, string) {
	if *checkAll {
		return jobs, "all"
	}
	optimized, others, loopEvery := 1, 4, 8
	if testing.Short() {
		optimized, others, loopEvery = 2, 8, 16
	}
	var out []job
	n := map[string]int{}
	for _, j := range jobs {
		every := others
		if j.mode == "optimized" {
			every = optimized
		}
		group := j.mode
		if hasBackwardJump(j.prog) {
			// libpcap does not optimize protochain: one program per mode.
			group, every = "loops", loopEvery
		}
		if n[group]%every == 0 {
			out = append(out, j)
		}
		n[group]++
	}
	return out, fmt.Sprintf("%d (every optimized program, one in %d of the others, one in %d of those with loops)", len(out), others, loopEvery)
}

// checkJobs runs the jobs on one worker per CPU; diffs[i] is job i's first
// difference, or "", and tallies[i] what its check did.
func checkJobs(t testing.TB, jobs []job, stride int) (total tally, diffs []string, tallies []tally) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	diffs, tallies = make([]string, len(jobs)), make([]tally, len(jobs))
	queue := make(chan int)
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
			for i := range queue {
				got, d := checkJob(runners, jobs[i], stride)
				mu.Lock()
				total.add(got)
				diffs[i], tallies[i] = d, got
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		queue <- i
	}
	close(queue)
	wg.Wait()
	return total, diffs, tallies
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
		if hasBackwardJump(j.prog) {
			got.loopLoadTime += took
		}
		if took > got.slowest {
			got.slowest, got.slowestName = took, fmt.Sprintf("%s at %v", j.name(), tg)
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
	for i := 0; i < len(j.packets); i += stride {
		data := j.packets[i]
		if !r.runnable(data) {
			got.skipped++
			continue
		}
		run := filter.Run(j.prog, data, len(data))
		want, jumps := boundedRun(j.prog, data)
		if want != run {
			if jumps <= MaxBackwardJumps {
				return fmt.Sprintf("%s: the test's bounded interpreter returns %d, filter.Run %d", j.packetName(i), want, run)
			}
			got.beyondBound++
			if got.beyondIn == nil {
				got.beyondIn = map[string]bool{}
			}
			got.beyondIn[strings.Fields(j.packetName(i))[0]] = true
		}
		ok, what, err := r.matches(prog, data, want)
		if err != nil {
			return fmt.Sprintf("%s: %v", j.packetName(i), err)
		}
		got.verdicts++
		if !ok {
			return fmt.Sprintf("%s (%d bytes): the kernel %s, filter.Run returned %d (%d backward jumps)", j.packetName(i), len(data), what, run, jumps)
		}
	}
	return ""
}

// reportDiffs fails the test with the first differences.
func reportDiffs(t testing.TB, jobs []job, diffs []string) {
	t.Helper()
	const shown = 20
	n := 0
	for i, d := range diffs {
		if d == "" {
			continue
		}
		if n++; n <= shown {
			t.Errorf("%s: %s", jobs[i].name(), d)
		}
	}
	if n > shown {
		t.Errorf("... %d differences in all, the first %d shown", n, shown)
	}
}

// hasBackwardJump reports whether p loops ("protochain").
func hasBackwardJump(p filter.Program) bool {
	for _, ins := range p {
		if ins.Op == filter.ClassJmp|filter.JmpJa && int32(ins.K) < 0 {
			return true
		}
	}
	return false
}
