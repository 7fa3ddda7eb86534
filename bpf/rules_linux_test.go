package bpf

import (
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// ruleFragment lowers expr for the hook.
func ruleFragment(t *testing.T, expr string, hook CaptureHook) []RuleSpec {
	t.Helper()
	prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	frag, err := Lower(prog, hook.Target())
	if err != nil {
		t.Fatal(err)
	}
	return []RuleSpec{{Filter: frag}}
}

// udpFrame is an Ethernet/IPv4/UDP frame of n bytes from src to port.
func udpFrame(n int, src byte, port uint16) []byte {
	f := make([]byte, n)
	copy(f[12:], []byte{0x08, 0x00, 0x45})
	f[14+9] = 17
	copy(f[14+12:], []byte{198, 18, 0, src, 198, 18, 0, 1})
	f[14+20+2], f[14+20+3] = byte(port>>8), byte(port)
	return f
}

// TestXDPRulesProgram: the first matching rule takes the packet; pass
// lets it go uncopied, drop drops it (copied when asked), capture copies
// at most the rule's snap length with the rule's number, sampling keeps
// one in N, and each rule counts what it did.
func TestXDPRulesProgram(t *testing.T) {
	requireBPF(t)
	rule := func(expr string, r RuleSpec) RuleSpec {
		r.Filter = ruleFragment(t, expr, HookXDP)[0].Filter
		return r
	}
	specs := []RuleSpec{
		rule("udp port 5353", RuleSpec{Action: RulePass}),
		rule("src host 198.18.0.66", RuleSpec{Action: RuleDrop, Capture: true, Snaplen: 40}),
		rule("src host 198.18.0.77", RuleSpec{Action: RuleDrop}),
		rule("udp port 53", RuleSpec{Snaplen: 60}),
		rule("udp port 9999", RuleSpec{Sample: 4}),
	}
	objs := loadCapture(t, RingBytes(1<<20, 1500, os.Getpagesize()), CaptureSpec{Hook: HookXDP, Snaplen: 1500, Rules: specs})
	prog := objs.Programs[HookXDP]
	run := func(frame []byte) uint32 {
		t.Helper()
		ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
		if err != nil {
			t.Fatal(err)
		}
		return ret
	}
	for _, tc := range []struct {
		frame []byte
		want  uint32
	}{
		{udpFrame(100, 66, 5353), xdpPass}, // rule 1 first: passed, not dropped
		{udpFrame(100, 66, 53), xdpDrop},   // rule 2: dropped and copied (40 bytes)
		{udpFrame(100, 77, 53), xdpDrop},   // rule 3: dropped, not copied
		{udpFrame(200, 5, 53), xdpPass},    // rule 4: copied, 60 bytes
		{udpFrame(100, 5, 1234), xdpPass},  // no rule
	} {
		if got := run(tc.frame); got != tc.want {
			t.Errorf("frame from .%d port %d: returned %d, want %d", tc.frame[29], uint16(tc.frame[36])<<8|uint16(tc.frame[37]), got, tc.want)
		}
	}
	const sampled = 400
	for range sampled {
		run(udpFrame(80, 5, 9999))
	}
	recs := readRecords(t, objs)
	counts := map[uint16]int{}
	for _, r := range recs {
		counts[r.Rule]++
	}
	if counts[2] != 1 || counts[3] != 0 || counts[4] != 1 || counts[1] != 0 || counts[0] != 0 {
		t.Errorf("records per rule %v, want one of rule 2 and one of rule 4", counts)
	}
	for _, r := range recs {
		switch r.Rule {
		case 2:
			if r.CaptureLength != 40 || r.Length != 100 {
				t.Errorf("rule 2 record: %d of %d bytes, want 40 of 100", r.CaptureLength, r.Length)
			}
		case 4:
			if r.CaptureLength != 60 || r.Length != 200 {
				t.Errorf("rule 4 record: %d of %d bytes, want 60 of 200", r.CaptureLength, r.Length)
			}
		}
	}
	if n := counts[5]; n < sampled/4/2 || n > sampled/4*2 {
		t.Errorf("sampling 1 in 4 kept %d of %d", n, sampled)
	}
	got, err := objs.ReadRuleCounters()
	if err != nil {
		t.Fatal(err)
	}
	want := [][RuleCounterWords]uint64{
		{1, 0, 0, 0}, {1, 0, 1, 1}, {1, 0, 0, 1}, {1, 0, 1, 0},
		{sampled, sampled - uint64(counts[5]), uint64(counts[5]), 0},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("rule %d counters %v, want %v (matched, sampled out, captured, dropped)", i+1, got[i], want[i])
		}
	}
}

// TestRulesProgramsPassTheVerifier: every mix of actions loads (the
// verifier refuses code no path reaches), at XDP and tcx.
func TestRulesProgramsPassTheVerifier(t *testing.T) {
	requireBPF(t)
	mixes := [][]RuleSpec{
		{{Action: RulePass}},
		{{Action: RuleDrop}},
		{{Action: RuleDrop, Capture: true}},
		{{Action: RuleCapture, Sample: 3}},
		{{Action: RulePass}, {Action: RuleDrop}},
		{{Action: RuleCapture, Snaplen: 64}, {Action: RulePass, Sample: 2}},
	}
	for _, hook := range []CaptureHook{HookXDP, HookTCXIngress} {
		for i, mix := range mixes {
			spec := CaptureSpec{Hook: hook, Snaplen: 1500}
			drops := false
			for _, r := range mix {
				r.Filter = ruleFragment(t, "udp", hook)[0].Filter
				spec.Rules = append(spec.Rules, r)
				drops = drops || r.Action == RuleDrop
			}
			if drops && hook != HookXDP {
				if _, err := CaptureProgram(spec); err == nil {
					t.Errorf("mix %d at %v: a drop rule outside XDP was accepted", i, hook)
				}
				continue
			}
			objs, err := LoadCapture([]CaptureSpec{spec}, RingBytes(1<<20, 1500, os.Getpagesize()), nil)
			if err != nil {
				t.Errorf("mix %d at %v: %v", i, hook, err)
				continue
			}
			objs.Close()
		}
	}
}

// TestXDPRulesRateLimits: a rule's rate lets a burst through at once,
// then the rate; the rest are counted as rate-limited and let go.
func TestXDPRulesRateLimits(t *testing.T) {
	requireBPF(t)
	rule := func(expr string, r RuleSpec) RuleSpec {
		r.Filter = ruleFragment(t, expr, HookXDP)[0].Filter
		return r
	}
	specs := []RuleSpec{
		rule("udp port 53", RuleSpec{Rate: NewRuleRate(1, 5, false, false)}),       // 1 packet/s, burst 5
		rule("udp port 54", RuleSpec{Rate: NewRuleRate(1000, 1000, true, false)}),  // 1000 bytes/s, burst 1000
		rule("udp port 55", RuleSpec{Rate: NewRuleRate(1000000, 0, false, false)}), // a million a second
	}
	objs := loadCapture(t, RingBytes(1<<20, 1500, os.Getpagesize()), CaptureSpec{Hook: HookXDP, Snaplen: 1500, Rules: specs})
	prog := objs.Programs[HookXDP]
	send := func(frame []byte, n int) {
		for range n {
			if _, err := prog.Run(&ebpf.RunOptions{Data: frame}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(udpFrame(100, 1, 53), 20)
	send(udpFrame(100, 1, 54), 30)
	send(udpFrame(100, 1, 55), 50)
	got, err := objs.ReadRuleCounters()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]uint64{{5, 15}, {10, 20}, {50, 0}} {
		c := got[i]
		// A test run takes microseconds: at most one more may come in time.
		if c[RuleMatched] != c[RuleCaptured]+c[RuleRateLimited] || c[RuleCaptured] < want[0] || c[RuleCaptured] > want[0]+1 {
			t.Errorf("rule %d: %d captured, %d rate-limited of %d; want %d and %d", i+1, c[RuleCaptured], c[RuleRateLimited], c[RuleMatched], want[0], want[1])
		}
	}
	if n := len(readRecords(t, objs)); n < 65 || n > 67 {
		t.Errorf("%d records, want the 65 the rates let through", n)
	}
}

// TestRulesRatePerFlow: a per-flow rate gives each flow its own burst,
// at XDP and at tcx; packets that are not IP share one bucket.
func TestRulesRatePerFlow(t *testing.T) {
	requireBPF(t)
	for _, hook := range []CaptureHook{HookXDP, HookTCXIngress} {
		spec := RuleSpec{Filter: ruleFragment(t, "", hook)[0].Filter, Rate: NewRuleRate(1, 3, false, true)}
		objs := loadCapture(t, RingBytes(1<<20, 1500, os.Getpagesize()), CaptureSpec{Hook: hook, Snaplen: 1500, Rules: []RuleSpec{spec}})
		prog := objs.Programs[hook]
		send := func(frame []byte, n int) {
			for range n {
				if _, err := prog.Run(&ebpf.RunOptions{Data: frame}); err != nil {
					t.Fatal(err)
				}
			}
		}
		v6 := make([]byte, 14+40+8)
		copy(v6[12:], []byte{0x86, 0xdd, 0x60})
		v6[14+6] = 17
		v6[14+8] = 0xfd
		v6[14+40+1] = 7
		other := make([]byte, 60)
		copy(other[12:], []byte{0x88, 0xcc})
		send(udpFrame(100, 1, 53), 10) // flow A
		send(udpFrame(100, 2, 53), 10) // flow B: another source
		send(udpFrame(100, 1, 54), 10) // flow C: another port
		send(v6, 10)                   // flow D: IPv6
		send(other, 10)                // not IP: one bucket
		got, err := objs.ReadRuleCounters()
		if err != nil {
			t.Fatal(err)
		}
		c := got[0]
		if c[RuleMatched] != 50 || c[RuleCaptured] < 15 || c[RuleCaptured] > 20 || c[RuleCaptured]+c[RuleRateLimited] != 50 {
			t.Errorf("%v: %d captured, %d rate-limited of %d; want 3 (at most 4) of each of 5 flows", hook, c[RuleCaptured], c[RuleRateLimited], c[RuleMatched])
		}
	}
}

// TestRulesSocketFilter: a socket's rules program keeps what the first
// matching rule captures, at most its snap length, and nothing else;
// counted as at XDP. Run through an AF_UNIX socket pair, where the
// bytes delivered are the verdict.
func TestRulesSocketFilter(t *testing.T) {
	requireBPF(t)
	var rules []RuleSpec
	for _, r := range []struct {
		expr string
		spec RuleSpec
	}{
		{"udp port 5353", RuleSpec{Action: RulePass}},
		{"udp port 53", RuleSpec{Snaplen: 60}},
		{"udp", RuleSpec{Sample: 1}},
	} {
		lowered, err := Lower(mustCompile(t, r.expr), TargetSocketFilter)
		if err != nil {
			t.Fatal(err)
		}
		r.spec.Filter = lowered
		rules = append(rules, r.spec)
	}
	insns, err := RulesSocketFilterProgram(1500, rules)
	if err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(&ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			RuleCountersMap: {Name: RuleCountersMap, Type: ebpf.PerCPUArray, KeySize: 4, ValueSize: 8 * RuleCounterWords, MaxEntries: 3},
			RateMap:         {Name: RateMap, Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 3},
			FlowRateMap:     {Name: FlowRateMap, Type: ebpf.LRUHash, KeySize: FlowKeyLen, ValueSize: 8, MaxEntries: 16},
		},
		Programs: map[string]*ebpf.ProgramSpec{"p": {Type: ebpf.SocketFilter, Instructions: withoutSources(insns), License: "GPL"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	runner, err := newKernelRunner(TargetSocketFilter)
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	if err := runner.use(coll.Programs["p"]); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		frame []byte
		want  uint32
	}{
		{udpFrame(100, 1, 5353), 0}, // rule 1 passes: nothing kept
		{udpFrame(100, 1, 53), 60},  // rule 2: its snap length
		{udpFrame(100, 1, 99), 100}, // rule 3: the whole packet
		{make([]byte, 80), 0},       // no rule
	} {
		ok, did, err := runner.matches(coll.Programs["p"], tc.frame, tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			t.Errorf("frame of %d bytes: the kernel %s, want %d bytes kept", len(tc.frame), did, tc.want)
		}
	}
}

func mustCompile(t *testing.T, expr string) filter.Program {
	t.Helper()
	p, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
