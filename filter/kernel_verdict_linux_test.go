package filter

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// The kernel as a second oracle: every program the differential table
// compiles to for every generated capture's link type (unoptimized and
// optimized, as the differential test; optimized with a short snap length;
// optimized in live form) is attached with SO_ATTACH_FILTER and run by the
// kernel on the capture's packets (testutil.KernelFilter: an AF_UNIX
// datagram pair, no privilege needed). Its verdicts must equal Run's.

// headerRelativeBase is the kernel's SKF_LL_OFF as an unsigned offset:
// absolute loads from here on read link-layer or network headers relative
// to the socket buffer's marks (SKF_LL_OFF, SKF_NET_OFF) or ancillary data
// (SKF_AD_OFF), which only a packet socket on a live interface supplies.
const headerRelativeBase uint32 = 0xffe00000

// kernelMode is one way of compiling. The differential test's two modes
// return the default snap length, longer than any packet; a short one
// makes the kernel cut accepted packets, which Run's result must predict.
// The live form (not Savefile) is what a capture attaches to its socket.
type kernelMode struct {
	name     string
	optimize bool
	snaplen  uint32
	live     bool
}

var kernelModes = []kernelMode{
	{name: "unoptimized"},
	{name: "optimized", optimize: true},
	{name: "optimized, snaplen 96", optimize: true, snaplen: 96},
	{name: "optimized, live", optimize: true, live: true},
}

// kernelExtraExpressions join the differential table here: their live
// forms read ancillary data, or they load at offsets the kernel treats
// apart (a negative index, the last byte by "len").
var kernelExtraExpressions = []string{
	"inbound",
	"outbound and tcp",
	"ifindex 2",
	"ether[-1] = 1",
	"ether[len - 1] = 0x33",
	"ip[len - 15] & 1 = 1",
}

// kernelProgram is one compiled program to check on one capture.
type kernelProgram struct {
	expr    string
	mode    kernelMode
	capture int // index into the captures and their packets
	prog    Program
}

func (kp kernelProgram) name(captures []diffCapture) string {
	return fmt.Sprintf("%q on %s (%s)", kp.expr, captures[kp.capture].name, kp.mode.name)
}

// kernelTally counts what the check did.
type kernelTally struct {
	programs        int // distinct programs attached and run
	duplicates      int // programs equal to one already checked on the capture
	compileRefusals int // expression and link type pairs Compile refuses
	kernelRefusals  int // programs the kernel refuses, as Validate predicts
	liveOnly        int // programs reading header-relative or ancillary data
	verdicts        int // packet verdicts compared
	cut             int // verdicts where the kernel kept part of the packet
}

func (a *kernelTally) add(b kernelTally) {
	a.programs += b.programs
	a.duplicates += b.duplicates
	a.compileRefusals += b.compileRefusals
	a.kernelRefusals += b.kernelRefusals
	a.liveOnly += b.liveOnly
	a.verdicts += b.verdicts
	a.cut += b.cut
}

func TestKernelVerdictsEqualRun(t *testing.T) {
	captures := loadDiffCaptures(t)
	packets := readWithWeir(t, captures)
	stride := 1
	if testing.Short() {
		stride = 7 // a sample of each capture, a seventh of the time
	}
	exprs := loadDiffExpressions(t)
	for _, e := range kernelExtraExpressions {
		exprs = append(exprs, diffExpression{text: e})
	}
	programs, tally := compileForKernel(packets, exprs)

	workers := make([]*testutil.KernelFilter, runtime.NumCPU())
	for i := range workers {
		k, err := testutil.NewKernelFilter()
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		workers[i] = k
	}
	jobs := make(chan kernelProgram)
	var mu sync.Mutex
	var diffs []string
	var wg sync.WaitGroup
	for _, k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for kp := range jobs {
				got, d := checkInKernel(k, kp, packets[kp.capture].data, stride)
				if d != "" {
					d = kp.name(captures) + ": " + d
				}
				mu.Lock()
				tally.add(got)
				if d != "" {
					diffs = append(diffs, d)
				}
				mu.Unlock()
			}
		}()
	}
	for _, kp := range programs {
		jobs <- kp
	}
	close(jobs)
	wg.Wait()

	for i, d := range diffs {
		if i == maxReported {
			t.Errorf("... %d differences in all, the first %d shown", len(diffs), maxReported)
			break
		}
		t.Error(d)
	}
	t.Logf("%d expressions x %d captures x %d modes: %d refused by Compile, %d programs repeated on their capture",
		len(exprs), len(captures), len(kernelModes), tally.compileRefusals, tally.duplicates)
	t.Logf("%d distinct programs attached; %d refused by the kernel as Validate predicts; %d read live-only data (verdicts skipped)",
		tally.programs, tally.kernelRefusals, tally.liveOnly)
	t.Logf("%d packet verdicts (%s) compared, %d of them cut to the snap length",
		tally.verdicts, sampleName(stride), tally.cut)
	if tally.verdicts == 0 || tally.cut == 0 {
		t.Error("no verdict, or no cut packet, was compared")
	}
}

// compileForKernel compiles every expression for every capture, as the
// differential test does, once per mode; a program repeated on the same
// capture (the optimizer may change nothing) is kept once.
func compileForKernel(packets []weirPackets, exprs []diffExpression) ([]kernelProgram, kernelTally) {
	var out []kernelProgram
	var tally kernelTally
	seen := map[string]bool{}
	for ci, p := range packets {
		for _, e := range exprs {
			for _, mode := range kernelModes {
				cfg := Config{LinkType: p.linkType, Optimize: mode.optimize, Snaplen: mode.snaplen, Savefile: !mode.live, SavefileBigEndian: p.bigEndian}
				prog, err := Compile(e.text, cfg)
				if err != nil {
					tally.compileRefusals++
					continue
				}
				key := fmt.Sprint(ci, prog)
				if seen[key] {
					tally.duplicates++
					continue
				}
				seen[key] = true
				out = append(out, kernelProgram{expr: e.text, mode: mode, capture: ci, prog: prog})
			}
		}
	}
	return out, tally
}

func sampleName(stride int) string {
	if stride == 1 {
		return "every packet"
	}
	return fmt.Sprintf("every %dth packet", stride)
}

// checkInKernel attaches kp and compares the kernel's verdict with Run's on
// every stride-th packet; it returns the first difference, or "".
func checkInKernel(k *testutil.KernelFilter, kp kernelProgram, packets [][]byte, stride int) (kernelTally, string) {
	tally := kernelTally{programs: 1}
	verr := Validate(kp.prog)
	kerr := k.Attach(sockFilter(kp.prog))
	switch {
	case kerr != nil && !errors.Is(kerr, unix.EINVAL):
		return tally, fmt.Sprintf("attaching: %v", kerr)
	case (kerr == nil) != (verr == nil):
		return tally, fmt.Sprintf("the kernel says %v, Validate says %v\n%s", kerr, verr, Dump(kp.prog, DumpAssembly))
	case kerr != nil && !kernelOnlyRefusal(kp.prog):
		return tally, fmt.Sprintf("the kernel and Validate refuse it (%v), for no backward jump or reserved offset\n%s", kerr, Dump(kp.prog, DumpAssembly))
	case kerr != nil:
		tally.kernelRefusals++
		return tally, ""
	case readsLiveOnlyData(kp.prog):
		tally.liveOnly++
		return tally, ""
	}
	for i := 0; i < len(packets); i += stride {
		data := packets[i]
		kept, delivered, err := k.Run(data)
		if err != nil {
			return tally, fmt.Sprintf("packet %d: %v", i+1, err)
		}
		tally.verdicts++
		ret := Run(kp.prog, data, len(data))
		if want := int(min(uint64(ret), uint64(len(data)))); delivered != (ret != 0) || (delivered && kept != want) {
			return tally, fmt.Sprintf("packet %d (%d bytes): the kernel %s, Run returned %d%s\n%s",
				i+1, len(data), describeDelivery(kept, delivered), ret, shiftNote(kp.prog), Dump(kp.prog, DumpAssembly))
		}
		if delivered && kept < len(data) {
			tally.cut++
		}
	}
	return tally, ""
}

func describeDelivery(kept int, delivered bool) string {
	if !delivered {
		return "dropped it"
	}
	return fmt.Sprintf("kept %d bytes", kept)
}

// shiftNote explains a known cause of difference, if p can meet it.
func shiftNote(p Program) string {
	for _, ins := range p {
		if ins.Op == opLshX || ins.Op == opRshX {
			return " (the program shifts by X: for counts of 32 or more the kernel shifts by the count's low 5 bits, Run and libpcap yield 0)"
		}
	}
	return ""
}

// readsLiveOnlyData reports whether p loads at an absolute offset from
// headerRelativeBase on: the kernel reads such data from a live packet's
// socket buffer, where Run and a datagram have none.
func readsLiveOnlyData(p Program) bool {
	for _, ins := range p {
		if (ins.Op == opLdW || ins.Op == opLdH || ins.Op == opLdB) && ins.K >= headerRelativeBase {
			return true
		}
	}
	return false
}

// TestKernelShiftCountDiffersFromRun records where the kernel and libpcap
// part: a shift by X of 32 or more. libpcap's bpf_filter (tcpdump -r) and
// Run yield 0; the kernel shifts by the count's low 5 bits. A live
// capture and an offline one disagree on such packets, as with tcpdump.
func TestKernelShiftCountDiffersFromRun(t *testing.T) {
	prog, err := Compile("ip[0] << ip[9] = 0", Config{LinkType: pcap.LinkTypeIPv4, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		protocol       byte
		run, kernelRun bool // accepted by Run, by the kernel
	}{
		{protocol: 6},                  // 0x45 << 6: neither
		{protocol: 31},                 // 0x45 << 31: 0x80000000, neither
		{protocol: 41, run: true},      // 0x45 << 41: 0 for Run, 0x45 << 9 in the kernel
		{protocol: 64, run: true},      // 0x45 << 64: 0 for Run, 0x45 << 0 in the kernel
		{protocol: 32 + 27, run: true}, // 0x45 << 27 in the kernel: 0x28000000
	} {
		packet := []byte{0x45, 0, 0, 20, 0, 0, 0, 0, 64, tt.protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}
		_, delivered, err := testutil.KernelVerdict(sockFilter(prog), packet)
		if err != nil {
			t.Fatal(err)
		}
		if ran := Run(prog, packet, len(packet)) != 0; ran != tt.run || delivered != tt.kernelRun {
			t.Errorf("protocol %d: Run accepts: %v, the kernel: %v; want %v and %v", tt.protocol, ran, delivered, tt.run, tt.kernelRun)
		}
	}
}
