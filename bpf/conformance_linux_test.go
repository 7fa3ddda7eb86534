package bpf

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// The conformance run (make conformance) checks the lowering on an external
// corpus: every (capture, expression) pair tcpdump accepts, compiled
// optimized as tcpdump -r compiles it, lowered for every target, verified
// and run in the kernel on every packet of the capture, must give
// filter.Run's verdicts. It runs only when -conformance.corpus names the
// corpus (a folder with expressions.tsv and pcaps/).

var (
	conformanceCorpus      = flag.String("conformance.corpus", "", "corpus folder (expressions.tsv, pcaps/) for TestConformance")
	conformanceUnoptimized = flag.Bool("conformance.unoptimized", false, "also check the unoptimized programs (weir -O) of the pairs tcpdump accepts")
)

func TestConformance(t *testing.T) {
	if *conformanceCorpus == "" {
		t.Skip("no -conformance.corpus: run by make conformance")
	}
	requireBPF(t)
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	exprs := readCorpusExpressions(t, filepath.Join(*conformanceCorpus, "expressions.tsv"))
	files, err := filepath.Glob(filepath.Join(*conformanceCorpus, "pcaps", "*.pcap*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures in %s/pcaps: %v", *conformanceCorpus, err)
	}
	var captures []*capture
	representative := map[pcap.LinkType]string{} // a file of each link type, for tcpdump -r
	for _, f := range files {
		groups, err := readCapture(f)
		if err != nil {
			t.Logf("%s: %v (left out)", filepath.Base(f), err)
			continue
		}
		for _, c := range groups {
			if _, ok := representative[c.linkType]; !ok && !strings.Contains(c.name, "(") {
				representative[c.linkType] = f
			}
		}
		captures = append(captures, groups...)
	}
	accepted := tcpdumpAcceptance(tcpdump, representative, exprs)

	var pairs pairTally
	var jobs []job
	for _, optimize := range []bool{true, false} {
		if optimize || *conformanceUnoptimized {
			jobs = append(jobs, conformanceJobs(captures, exprs, accepted, optimize, &pairs)...)
		}
	}
	total, diffs, tallies := checkJobs(t, jobs, 1)
	for i, j := range jobs {
		for _, c := range j.pairs {
			switch {
			case diffs[i] != "":
				pairs.failed++
			case tallies[i].beyondIn[c]:
				pairs.beyondBound++
			default:
				pairs.passed++
			}
		}
	}
	reportDiffs(t, jobs, diffs)
	t.Logf("%d captures (%d link types), %d expressions: %s", len(captures), len(representative), len(exprs), pairs)
	t.Logf("%s", total)
	fmt.Printf("conformance: %d passed, %d failed, %d beyond the loop bound (pairs x compile modes)\n", pairs.passed, pairs.failed, pairs.beyondBound)
}

// pairTally counts (capture, expression) pairs.
type pairTally struct {
	tcpdumpRejects, weirRejects, passed, failed int
	beyondBound                                 int // equal to the bounded loop's verdicts, not to tcpdump's
}

func (p pairTally) String() string {
	return fmt.Sprintf("%d pairs tcpdump rejects (skipped); counting pairs once per compile mode: %d it accepts and filter.Compile refuses (skipped: a filter matter), "+
		"%d passed, %d failed, %d more agree with the bounded loop (verdict 0 after %d backward jumps) but not with filter.Run on some packet",
		p.tcpdumpRejects, p.weirRejects, p.passed, p.failed, p.beyondBound, MaxBackwardJumps)
}

// readCorpusExpressions reads the distinct expressions of expressions.tsv.
func readCorpusExpressions(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	var out []string
	s := bufio.NewScanner(f)
	for first := true; s.Scan(); first = false {
		expr, _, _ := strings.Cut(s.Text(), "\t")
		if first || seen[expr] {
			continue
		}
		seen[expr] = true
		out = append(out, expr)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// acceptKey is an expression on a link type.
type acceptKey struct {
	link pcap.LinkType
	expr string
}

// tcpdumpAcceptance asks tcpdump -r FILE -d EXPR, on one file of each link
// type, which expressions it compiles there (savefile context, as the
// difftest runs it).
func tcpdumpAcceptance(tcpdump string, files map[pcap.LinkType]string, exprs []string) map[acceptKey]bool {
	out := map[acceptKey]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	queue := make(chan acceptKey)
	for w := 0; w < 2*runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range queue {
				err := exec.Command(tcpdump, "-r", files[k.link], "-d", "--", k.expr).Run()
				mu.Lock()
				out[k] = err == nil
				mu.Unlock()
			}
		}()
	}
	for link := range files {
		for _, e := range exprs {
			queue <- acceptKey{link, e}
		}
	}
	close(queue)
	wg.Wait()
	return out
}

// conformanceJobs compiles every accepted pair, optimized or not; the pairs of
// one link type that share a program make one job, run on the packets of
// all their captures.
func conformanceJobs(captures []*capture, exprs []string, accepted map[acceptKey]bool, optimize bool, pairs *pairTally) []job {
	mode := "optimized"
	if !optimize {
		mode = "unoptimized"
	}
	var out []job
	index := map[string]int{}
	has := map[int]map[*capture]bool{} // job -> captures whose packets it holds
	for _, c := range captures {
		for _, e := range exprs {
			ok, known := accepted[acceptKey{c.linkType, e}]
			if !known || !ok {
				if optimize {
					pairs.tcpdumpRejects++
				}
				continue
			}
			prog, err := filter.Compile(e, filter.Config{LinkType: c.linkType, Optimize: optimize, Savefile: true, SavefileBigEndian: c.bigEndian})
			if err != nil {
				pairs.weirRejects++
				continue
			}
			key := fmt.Sprint(c.linkType, prog)
			i, ok := index[key]
			if !ok {
				i = len(out)
				index[key] = i
				has[i] = map[*capture]bool{}
				out = append(out, job{expr: e, mode: mode, where: fmt.Sprintf("the %s captures", c.linkType), prog: prog})
			}
			j := &out[i]
			j.pairs = append(j.pairs, c.name)
			if !has[i][c] {
				has[i][c] = true
				j.packets = append(j.packets, c.packets...)
				for n := range c.packets {
					j.origins = append(j.origins, origin{c.name, n + 1})
				}
			}
		}
	}
	return out
}
