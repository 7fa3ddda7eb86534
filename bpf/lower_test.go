package bpf

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

var targets = []Target{TargetSocketFilter, TargetXDP, TargetTCX}

// Classic instructions for hand-written programs.
func stmt(op uint16, k uint32) filter.Instruction { return filter.Instruction{Op: op, K: k} }

func jump(op uint16, k uint32, jt, jf uint8) filter.Instruction {
	return filter.Instruction{Op: op, K: k, Jt: jt, Jf: jf}
}

const (
	ldAbsW = filter.ClassLd | filter.SizeW | filter.ModeAbs
	ldAbsH = filter.ClassLd | filter.SizeH | filter.ModeAbs
	ldIndB = filter.ClassLd | filter.SizeB | filter.ModeInd
	ldLen  = filter.ClassLd | filter.SizeW | filter.ModeLen
	retK   = filter.ClassRet | filter.SrcK
	retA   = filter.ClassRet | filter.SrcA
	jeqK   = filter.ClassJmp | filter.JmpJeq | filter.SrcK
	jsetK  = filter.ClassJmp | filter.JmpJset | filter.SrcK
	ja     = filter.ClassJmp | filter.JmpJa
	aluX   = filter.ClassAlu | filter.SrcX
)

func TestLowerRefuses(t *testing.T) {
	live := func(expr string, cfg filter.Config) filter.Program {
		p, err := filter.Compile(expr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ether := filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true}
	for _, tt := range []struct {
		name    string
		prog    filter.Program
		targets []Target
		want    string
	}{
		{"empty program", nil, targets, "bpf: empty program"},
		{"unknown opcode", filter.Program{stmt(0xff, 0)}, targets, "bpf: instruction 0 (" + filter.Image(stmt(0xff, 0), 0) + "): unknown opcode 0xff"},
		{"jump past the end", filter.Program{jump(jeqK, 1, 0, 5), stmt(retK, 0)}, targets, "jump to 6, past the end of the program"},
		{"inbound at XDP", live("inbound", ether), []Target{TargetXDP}, `ancillary load of "type"`},
		{"live vlan at XDP", live("vlan 100", filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, KernelVLAN: true}), []Target{TargetXDP}, "not available at XDP"},
		{"hatype", filter.Program{stmt(ldAbsW, 0xfffff000+28), stmt(retA, 0)}, targets, "SKF_AD_OFF+28 has no eBPF equivalent"},
	} {
		for _, tg := range tt.targets {
			_, err := Lower(tt.prog, tg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "bpf: ") {
				t.Errorf("%s at %v: got error %v, want one containing %q", tt.name, tg, err, tt.want)
			}
		}
	}
	if _, err := Lower(filter.Program{stmt(retK, 1)}, Target(7)); err == nil || err.Error() != "bpf: unknown target 7" {
		t.Errorf("target 7: got %v", err)
	}
	// What XDP refuses, the socket filter and tcx read from __sk_buff.
	for _, tg := range []Target{TargetSocketFilter, TargetTCX} {
		if _, err := Lower(live("inbound", ether), tg); err != nil {
			t.Errorf("inbound at %v: %v", tg, err)
		}
	}
}

// TestLowerShapes pins how instructions lower, through Format.
func TestLowerShapes(t *testing.T) {
	for _, tt := range []struct {
		name   string
		prog   filter.Program
		target Target
		want   []string // lines of Format's output, in order, without offsets
		absent []string
	}{
		{
			name: "ret #k", prog: filter.Program{stmt(retK, 0x40000)}, target: TargetSocketFilter,
			want: []string{"r6 = r1", "w7 = 0x0", "w8 = 0x0", "w0 = 0x40000", "goto filter_done"},
			// Nothing jumps to verdict 0: the verifier refuses dead code.
			absent: []string{rejectSymbol + ":"},
		},
		{
			name: "unsigned constants in 32-bit tests", prog: filter.Program{stmt(ldAbsW, 0), jump(jeqK, 0x80000000, 0, 1), stmt(retK, 1), stmt(retK, 0)}, target: TargetXDP,
			want: []string{"if w7 != 0x80000000 goto weir_filter_3"},
		},
		{
			name: "jset with a true branch falling through", prog: filter.Program{stmt(ldAbsH, 0), jump(jsetK, 0x10, 0, 1), stmt(retK, 1), stmt(retK, 0)}, target: TargetXDP,
			want: []string{"if w7 & 0x10 goto weir_filter_2", "goto weir_filter_3"},
		},
		{
			name: "direct access with bounds check", prog: filter.Program{stmt(ldAbsH, 12), stmt(retA, 0)}, target: TargetXDP,
			want: []string{"r1 = *(u32 *)(r6 +0)", "r2 = *(u32 *)(r6 +4)", "r1 += 12", "r3 = r1", "r3 += 2", "if r3 > r2 goto " + rejectSymbol, "r7 = *(u16 *)(r1 +0)", "r7 = be16 r7", "w0 = w7"},
		},
		{
			name: "indexed load bounded before pointer arithmetic", prog: filter.Program{stmt(ldIndB, 14), stmt(retA, 0)}, target: TargetXDP,
			want:   []string{"w4 = 0xe", "r4 += r8", "if r4 > 65534 goto " + rejectSymbol, "r1 += r4", "if r3 > r2 goto " + rejectSymbol, "r7 = *(u8 *)(r1 +0)"},
			absent: []string{"be"},
		},
		{
			name: "tcx falls back to the helper", prog: filter.Program{stmt(ldAbsW, 26), stmt(retA, 0)}, target: TargetTCX,
			want: []string{"r1 = *(u32 *)(r6 +76)", "r2 = *(u32 *)(r6 +80)", "if r3 > r2 goto weir_filter_0_helper", "goto weir_filter_0_loaded",
				"weir_filter_0_helper:", "w2 = 0x1a", "call bpf_skb_load_bytes", "if r0 != 0 goto " + rejectSymbol, "r7 = *(u32 *)(r10 -72)", "weir_filter_0_loaded:"},
		},
		{
			name: "socket filter reads through the helper", prog: filter.Program{stmt(ldIndB, 14), stmt(retA, 0)}, target: TargetSocketFilter,
			want:   []string{"w4 = 0xe", "r4 += r8", "if r4 > 2147483647 goto " + rejectSymbol, "r2 = r4", "r1 = r6", "r3 = r10", "r3 += -72", "r4 = 1", "call bpf_skb_load_bytes"},
			absent: []string{"(r6 +76)"},
		},
		{
			name: "an offset past any packet", prog: filter.Program{stmt(ldAbsW, 0xffffffff), stmt(retA, 0)}, target: TargetXDP,
			want: []string{"goto " + rejectSymbol, rejectSymbol + ":", "w0 = 0x0"}, absent: []string{"w0 = w7"},
		},
		{
			name: "len at XDP", prog: filter.Program{stmt(ldLen, 0), stmt(retA, 0)}, target: TargetXDP,
			want: []string{"r1 = r6", "call bpf_xdp_get_buff_len", "w7 = w0"},
		},
		{
			name: "len from __sk_buff", prog: filter.Program{stmt(ldLen, 0), stmt(retA, 0)}, target: TargetTCX,
			want: []string{"r7 = *(u32 *)(r6 +0)"},
		},
		{
			name: "division by X", prog: filter.Program{stmt(filter.ClassLdx|filter.ModeImm, 0), stmt(aluX|filter.AluDiv, 0), stmt(retA, 0)}, target: TargetSocketFilter,
			want: []string{"if r8 == 0 goto " + rejectSymbol, "w7 /= w8"},
		},
		{
			name: "division by constant zero", prog: filter.Program{stmt(filter.ClassAlu|filter.AluDiv, 0), stmt(retA, 0)}, target: TargetSocketFilter,
			want: []string{"goto " + rejectSymbol}, absent: []string{"/="},
		},
		{
			name: "shift by X of 32 or more gives 0", prog: filter.Program{stmt(aluX|filter.AluLsh, 0), stmt(retA, 0)}, target: TargetSocketFilter,
			want: []string{"if r8 < 32 goto weir_filter_0_shift", "w7 = 0x0", "goto weir_filter_0_shifted", "weir_filter_0_shift:", "w7 <<= w8", "weir_filter_0_shifted:"},
		},
		{
			name: "constant shift of 32", prog: filter.Program{stmt(filter.ClassLd|filter.ModeImm, 1), stmt(filter.ClassAlu|filter.AluRsh, 32), stmt(retA, 0)}, target: TargetTCX,
			want: []string{"w7 = 0x1", "w7 = 0x0"}, absent: []string{">>="},
		},
		{
			name: "scratch memory zeroed where loaded", prog: filter.Program{stmt(filter.ClassLd|filter.ModeMem, 3), stmt(filter.ClassSt, 15), stmt(retA, 0)}, target: TargetXDP,
			want:   []string{"*(u64 *)(r10 -56) = 0", "r7 = *(u32 *)(r10 -52)", "*(u32 *)(r10 -4) = r7"},
			absent: []string{"(r10 -64) = 0", "(r10 -8) = 0"},
		},
		{
			name: "backward jump spends the loop budget", prog: filter.Program{stmt(ldAbsW, 0), jump(jeqK, 0, 1, 0), stmt(retK, 1), stmt(ldIndB, 0), stmt(ja, uint32(0xffffffff-4)), stmt(retK, 0)}, target: TargetXDP,
			want: []string{fmt.Sprintf("w9 = %#x", MaxBackwardJumps), "weir_filter_0:", "if r9 == 0 goto " + rejectSymbol, "w9 -= 0x1", "goto weir_filter_0"},
		},
		{
			name: "packet type from __sk_buff", prog: filter.Program{stmt(ldAbsH, 0xfffff004), stmt(retA, 0)}, target: TargetSocketFilter,
			want: []string{"r7 = *(u32 *)(r6 +4)"}, absent: []string{"call"},
		},
		{
			name: "protocol turned to host order", prog: filter.Program{stmt(ldAbsH, 0xfffff000), stmt(retA, 0)}, target: TargetTCX,
			want: []string{"r7 = *(u32 *)(r6 +16)", "r7 = be16 r7"},
		},
		{
			name: "ifindex at XDP", prog: filter.Program{stmt(ldAbsW, 0xfffff008), stmt(retA, 0)}, target: TargetXDP,
			want: []string{"r7 = *(u32 *)(r6 +12)"},
		},
	} {
		frag, err := Lower(tt.prog, tt.target)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		text := Format(frag)
		lines := formatLines(text)
		at := 0
		for _, w := range tt.want {
			for at < len(lines) && lines[at] != w {
				at++
			}
			if at == len(lines) {
				t.Errorf("%s: no %q in order in\n%s", tt.name, w, text)
				break
			}
		}
		for _, a := range tt.absent {
			if strings.Contains(text, a) {
				t.Errorf("%s: %q present in\n%s", tt.name, a, text)
			}
		}
		if err := checkContract(frag, tt.target); err != nil {
			t.Errorf("%s: %v\n%s", tt.name, err, text)
		}
	}
}

// formatLines returns Format's lines without comments, offsets and indent.
func formatLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		if _, rest, ok := strings.Cut(line, ": "); ok && !strings.HasSuffix(line, ":") && isNumber(line[:strings.Index(line, ":")]) {
			line = rest
		}
		out = append(out, line)
	}
	return out
}

func isNumber(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// TestLowerKeepsTheContract lowers every expression of the filter
// package's differential table, for the link types of the project's
// captures, in the compile modes of the kernel test, and checks every
// fragment against the contract (checkContract).
func TestLowerKeepsTheContract(t *testing.T) {
	exprs := append(readExpressions(t, expressionFile), extraExpressions...)
	links := []pcap.LinkType{pcap.LinkTypeEthernet, pcap.LinkTypeLinuxSLL, pcap.LinkTypeLinuxSLL2, pcap.LinkTypeRaw, pcap.LinkTypeIPv4, pcap.LinkTypeIPv6, pcap.LinkTypeNull, pcap.LinkTypeLoop}
	checked, refused := 0, 0
	for _, lt := range links {
		for _, e := range exprs {
			for _, m := range compileModes {
				prog, err := filter.Compile(e, filter.Config{LinkType: lt, Optimize: m.optimize, Snaplen: m.snaplen, Savefile: !m.live})
				if err != nil {
					continue
				}
				for _, tg := range targets {
					frag, err := Lower(prog, tg)
					if err != nil {
						if tg == TargetXDP && readsAncillary(prog) && strings.Contains(err.Error(), "not available at XDP") {
							refused++
							continue
						}
						t.Fatalf("%q on %v (%s) at %v: %v", e, lt, m.name, tg, err)
					}
					if err := checkContract(frag, tg); err != nil {
						t.Fatalf("%q on %v (%s) at %v: %v\n%s", e, lt, m.name, tg, err, Format(frag))
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d fragments keep the contract; %d programs reading socket metadata refused at XDP", checked, refused)
	if checked < 1000 || refused == 0 {
		t.Errorf("checked %d fragments, %d refusals: the table did not load?", checked, refused)
	}
}

// TestBoundedRunEqualsRun checks the tests' own oracle: below the loop
// bound, boundedRun gives filter.Run's verdicts on the project's captures.
func TestBoundedRunEqualsRun(t *testing.T) {
	captures := readCaptures(t, captureDir)
	exprs := append(readExpressions(t, expressionFile), extraExpressions...)
	compared, loops := 0, 0
	for _, c := range captures {
		for _, e := range exprs {
			prog, err := filter.Compile(e, filter.Config{LinkType: c.linkType, Optimize: true, Savefile: true, SavefileBigEndian: c.bigEndian})
			if err != nil {
				continue
			}
			for i, data := range c.packets {
				got, jumps := boundedRun(prog, data)
				if want := filter.Run(prog, data, len(data)); got != want {
					t.Fatalf("%q on %s packet %d: boundedRun %d (%d backward jumps), filter.Run %d", e, c.name, i+1, got, jumps, want)
				}
				compared++
				if jumps > 0 {
					loops++
				}
			}
		}
	}
	{
		chain := ipv6Chain(MaxBackwardJumps + 1)
		prog, err := filter.Compile("protochain 6", filter.Config{LinkType: pcap.LinkTypeEthernet, Savefile: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, jumps := boundedRun(prog, chain); got != 0 || jumps != MaxBackwardJumps+1 || filter.Run(prog, chain, len(chain)) == 0 {
			t.Errorf("past the bound: boundedRun %d after %d jumps, filter.Run %d", got, jumps, filter.Run(prog, chain, len(chain)))
		}
	}
	t.Logf("%d verdicts compared, %d of them after backward jumps", compared, loops)
	if loops == 0 {
		t.Error("no verdict took a backward jump")
	}
}

func TestFormat(t *testing.T) {
	prog, err := filter.Compile("ip6 protochain 17", filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Savefile: true})
	if err != nil {
		t.Fatal(err)
	}
	frag, err := Lower(prog, TargetXDP)
	if err != nil {
		t.Fatal(err)
	}
	text := Format(frag)
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for _, want := range []string{
		"\t; context, A = 0, X = 0",
		"\t   0: r6 = r1",
		"\t; (000) ldh      [12]",
		"weir_filter_4:",
		"\t; (004) jeq      #0x11            jt 32\tjf 5",
		rejectSymbol + ":",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("no line %q in\n%s", want, text)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, ": goto filter_done") {
		t.Errorf("last line %q", last)
	}
	// Every instruction is one numbered line: offsets count them all.
	numbered := 0
	for _, line := range lines {
		if strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "\t;") {
			numbered++
		}
	}
	if numbered != len(frag) {
		t.Errorf("%d numbered lines for %d instructions", numbered, len(frag))
	}
	for fn, want := range map[asm.BuiltinFunc]string{
		asm.FnSkbLoadBytes: "bpf_skb_load_bytes", asm.FnXdpGetBuffLen: "bpf_xdp_get_buff_len",
		asm.FnGetSmpProcessorId: "bpf_get_smp_processor_id", asm.FnGetPrandomU32: "bpf_get_prandom_u32",
	} {
		if got := helperName(fn); got != want {
			t.Errorf("helperName(%v) = %q, want %q", fn, got, want)
		}
	}
}

// TestLowerRefusesFarJumps: eBPF jump offsets are 16 bits; a classic
// program whose lowering needs a farther jump is refused rather than
// encoded wrong.
func TestLowerRefusesFarJumps(t *testing.T) {
	// Classic jumps reach 255 ahead: a chain of tests each over 250 loads
	// of ~20 eBPF instructions at tcx.
	var p filter.Program
	for len(p) < filter.MaxInstructions-260 {
		p = append(p, stmt(ldAbsW, 0), jump(jeqK, 1, 250, 0))
		for i := 0; i < 250; i++ {
			p = append(p, stmt(ldIndB, uint32(i)))
		}
	}
	p = append(p, stmt(retA, 0))
	_, err := Lower(p, TargetTCX)
	if err == nil || !strings.Contains(err.Error(), "more than eBPF's 32767: the filter is too large") {
		t.Errorf("got %v", err)
	}
	if _, err := Lower(append(p[:252:252], stmt(retA, 0)), TargetTCX); err != nil {
		t.Errorf("a short prefix: %v", err)
	}
}

// TestInterpretedVerdictsEqualRun is the kernel test without the kernel:
// every expression of the table, compiled for each capture's link type in
// every mode, lowered for every target and interpreted (interpret) on
// every packet, gives boundedRun's verdicts (filter.Run's below the loop
// bound). Programs reading socket metadata are left out.
func TestInterpretedVerdictsEqualRun(t *testing.T) {
	captures := readCaptures(t, captureDir)
	exprs := append(readExpressions(t, expressionFile), extraExpressions...)
	stride := 5 // a fifth of the packets keeps it at a few seconds
	if testing.Short() {
		stride = 20
	}
	verdicts := 0
	for _, j := range compileJobs(captures, exprs, compileModes) {
		if readsAncillary(j.prog) {
			continue
		}
		for _, tg := range targets {
			frag, err := Lower(j.prog, tg)
			if err != nil {
				t.Fatalf("%s at %v: %v", j.name(), tg, err)
			}
			for i := 0; i < len(j.packets); i += stride {
				data := j.packets[i]
				want, _ := boundedRun(j.prog, data)
				got, err := interpret(frag, tg, data)
				if err != nil || got != want {
					t.Fatalf("%s at %v, packet %d: interpreted %d (%v), want %d\n%s\n%s", j.name(), tg, i+1, got, err, want,
						filter.Dump(j.prog, filter.DumpAssembly), Format(frag))
				}
				verdicts++
			}
		}
	}
	t.Logf("%d verdicts compared (every %d packet(s))", verdicts, stride)
}
