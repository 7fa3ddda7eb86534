package filter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

var verdictsGolden = filepath.Join("testdata", "dump", "verdicts.golden")

// runBoth runs p through Run and, when NewVM accepts it, the decoded VM,
// failing the test if they disagree.
func runBoth(t *testing.T, p Program, data []byte, wireLen int) uint32 {
	t.Helper()
	got := Run(p, data, wireLen)
	if vm, err := NewVM(p); err == nil {
		if v := vm.Run(data, wireLen); v != got {
			t.Errorf("VM.Run = %d, Run = %d for %v on % x", v, got, p, data)
		}
	}
	return got
}

func ret(k uint32) Instruction             { return Instruction{Op: opRetK, K: k} }
func stmt(op uint16, k uint32) Instruction { return Instruction{Op: op, K: k} }
func jump(op uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Op: op, Jt: jt, Jf: jf, K: k}
}

var retA = Instruction{Op: opRetA}

func TestRunOpcodes(t *testing.T) {
	pkt := []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x48, 0xff, 0xfe}
	tests := []struct {
		name    string
		p       Program
		wireLen int
		want    uint32
	}{
		{"ret k", Program{ret(7)}, 10, 7},
		{"ld w abs", Program{stmt(opLdW, 1), retA}, 10, 0x02030405},
		{"ld h abs", Program{stmt(opLdH, 8), retA}, 10, 0xfffe},
		{"ld b abs", Program{stmt(opLdB, 9), retA}, 10, 0xfe},
		{"ld w ind", Program{stmt(opLdxImm, 2), stmt(opLdIndW, 4), retA}, 10, 0x0748fffe},
		{"ld h ind", Program{stmt(opLdxImm, 1), stmt(opLdIndH, 0), retA}, 10, 0x0203},
		{"ld b ind", Program{stmt(opLdxImm, 3), stmt(opLdIndB, 4), retA}, 10, 0x48},
		{"ld len is wire length", Program{stmt(opLdLen, 0), retA}, 1500, 1500},
		{"ldx len", Program{stmt(opLdxLen, 0), stmt(opTxa, 0), retA}, 60, 60},
		{"ld imm", Program{stmt(opLdImm, 0xdeadbeef), retA}, 10, 0xdeadbeef},
		{"ldx imm txa", Program{stmt(opLdxImm, 42), stmt(opTxa, 0), retA}, 10, 42},
		{"ldx msh", Program{stmt(opLdxMsh, 7), stmt(opTxa, 0), retA}, 10, 32},
		{"st ld mem", Program{stmt(opLdImm, 9), stmt(opSt, 15), stmt(opLdImm, 0), stmt(opLdMem, 15), retA}, 10, 9},
		{"stx ldx mem", Program{stmt(opLdxImm, 5), stmt(opStx, 0), stmt(opLdxImm, 0), stmt(opLdxMem, 0), stmt(opTxa, 0), retA}, 10, 5},
		{"memory starts zeroed", Program{stmt(opLdImm, 1), stmt(opLdMem, 3), retA}, 10, 0},
		{"tax", Program{stmt(opLdImm, 11), stmt(opTax, 0), stmt(opLdImm, 0), stmt(opTxa, 0), retA}, 10, 11},
		{"add k", Program{stmt(opLdImm, 0xffffffff), stmt(opAddK, 2), retA}, 10, 1},
		{"sub k", Program{stmt(opLdImm, 1), stmt(opSubK, 2), retA}, 10, 0xffffffff},
		{"mul k", Program{stmt(opLdImm, 0x10000), stmt(opMulK, 0x10001), retA}, 10, 0x10000},
		{"div k", Program{stmt(opLdImm, 100), stmt(opDivK, 7), retA}, 10, 14},
		{"mod k", Program{stmt(opLdImm, 100), stmt(opModK, 7), retA}, 10, 2},
		{"and k", Program{stmt(opLdImm, 0xff0f), stmt(opAndK, 0xf0ff), retA}, 10, 0xf00f},
		{"or k", Program{stmt(opLdImm, 0xf000), stmt(opOrK, 0x000f), retA}, 10, 0xf00f},
		{"xor k", Program{stmt(opLdImm, 0xff00), stmt(opXorK, 0x0ff0), retA}, 10, 0xf0f0},
		{"lsh k", Program{stmt(opLdImm, 3), stmt(opLshK, 31), retA}, 10, 0x80000000},
		{"rsh k", Program{stmt(opLdImm, 0x80000000), stmt(opRshK, 31), retA}, 10, 1},
		{"neg", Program{stmt(opLdImm, 1), stmt(opNeg, 0), retA}, 10, 0xffffffff},
		{"neg min", Program{stmt(opLdImm, 0x80000000), stmt(opNeg, 0), retA}, 10, 0x80000000},
		{"add x", Program{stmt(opLdxImm, 3), stmt(opLdImm, 4), stmt(opAddX, 0), retA}, 10, 7},
		{"sub x", Program{stmt(opLdxImm, 3), stmt(opLdImm, 4), stmt(opSubX, 0), retA}, 10, 1},
		{"mul x", Program{stmt(opLdxImm, 3), stmt(opLdImm, 4), stmt(opMulX, 0), retA}, 10, 12},
		{"div x", Program{stmt(opLdxImm, 3), stmt(opLdImm, 10), stmt(opDivX, 0), retA}, 10, 3},
		{"mod x", Program{stmt(opLdxImm, 3), stmt(opLdImm, 10), stmt(opModX, 0), retA}, 10, 1},
		{"and x", Program{stmt(opLdxImm, 6), stmt(opLdImm, 3), stmt(opAndX, 0), retA}, 10, 2},
		{"or x", Program{stmt(opLdxImm, 6), stmt(opLdImm, 3), stmt(opOrX, 0), retA}, 10, 7},
		{"xor x", Program{stmt(opLdxImm, 6), stmt(opLdImm, 3), stmt(opXorX, 0), retA}, 10, 5},
		{"lsh x", Program{stmt(opLdxImm, 4), stmt(opLdImm, 3), stmt(opLshX, 0), retA}, 10, 48},
		{"rsh x", Program{stmt(opLdxImm, 4), stmt(opLdImm, 48), stmt(opRshX, 0), retA}, 10, 3},
		{"ja", Program{stmt(opJa, 1), ret(1), ret(2)}, 10, 2},
		{"jeq k true", Program{stmt(opLdImm, 5), jump(opJeqK, 5, 0, 1), ret(1), ret(2)}, 10, 1},
		{"jeq k false", Program{stmt(opLdImm, 6), jump(opJeqK, 5, 0, 1), ret(1), ret(2)}, 10, 2},
		{"jgt k", Program{stmt(opLdImm, 6), jump(opJgtK, 5, 0, 1), ret(1), ret(2)}, 10, 1},
		{"jgt k equal", Program{stmt(opLdImm, 5), jump(opJgtK, 5, 0, 1), ret(1), ret(2)}, 10, 2},
		{"jge k equal", Program{stmt(opLdImm, 5), jump(opJgeK, 5, 0, 1), ret(1), ret(2)}, 10, 1},
		{"jge k less", Program{stmt(opLdImm, 4), jump(opJgeK, 5, 0, 1), ret(1), ret(2)}, 10, 2},
		{"jset k", Program{stmt(opLdImm, 6), jump(opJsetK, 2, 0, 1), ret(1), ret(2)}, 10, 1},
		{"jset k clear", Program{stmt(opLdImm, 6), jump(opJsetK, 9, 0, 1), ret(1), ret(2)}, 10, 2},
		{"jeq x", Program{stmt(opLdxImm, 5), stmt(opLdImm, 5), jump(opJeqX, 0, 0, 1), ret(1), ret(2)}, 10, 1},
		{"jgt x unsigned", Program{stmt(opLdxImm, 1), stmt(opLdImm, 0xffffffff), jump(opJgtX, 0, 0, 1), ret(1), ret(2)}, 10, 1},
		{"jge x", Program{stmt(opLdxImm, 5), stmt(opLdImm, 4), jump(opJgeX, 0, 0, 1), ret(1), ret(2)}, 10, 2},
		{"jset x", Program{stmt(opLdxImm, 8), stmt(opLdImm, 12), jump(opJsetX, 0, 0, 1), ret(1), ret(2)}, 10, 1},
		{"long jumps", Program{stmt(opLdImm, 1), jump(opJeqK, 1, 2, 0), ret(1), ret(2), ret(3)}, 10, 3},
		{"fused load jump", Program{stmt(opLdH, 8), jump(opJeqK, 0xfffe, 0, 1), retA, ret(2)}, 10, 0xfffe},
		{"jump onto fused jump", Program{stmt(opLdB, 0), jump(opJeqK, 9, 1, 0), stmt(opLdB, 9), jump(opJgtK, 0xf0, 0, 1), retA, ret(2)}, 10, 0xfe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runBoth(t, tt.p, pkt, tt.wireLen); got != tt.want {
				t.Errorf("Run = %#x, want %#x", got, tt.want)
			}
		})
	}
}

// TestRunLoadBounds walks every load size and mode across the end of the
// captured bytes: the last in-bounds offset loads, the next rejects.
func TestRunLoadBounds(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	for _, tt := range []struct {
		name string
		op   uint16
		size uint32
	}{{"w", opLdW, 4}, {"h", opLdH, 2}, {"b", opLdB, 1}} {
		last := uint32(len(data)) - tt.size
		for _, k := range []uint32{last, last + 1, uint32(len(data)), 0x7fffffff, 0xfffffffe, 0xffffffff} {
			want := k <= last
			abs := Program{stmt(tt.op, k), ret(1)}
			if got := runBoth(t, abs, data, 1000) == 1; got != want {
				t.Errorf("ld%s [%d] on %d bytes: ran %v, want %v", tt.name, k, len(data), got, want)
			}
			// X+K must not wrap around 2^32 into bounds.
			for _, x := range []uint32{0, 1, 0xffffffff} {
				ind := Program{stmt(opLdxImm, x), stmt(tt.op&^ModeAbs|ModeInd, k), ret(1)}
				wantInd := uint64(x)+uint64(k) <= uint64(last)
				if got := runBoth(t, ind, data, 1000) == 1; got != wantInd {
					t.Errorf("ld%s [x + %d] with x=%d: ran %v, want %v", tt.name, k, x, got, wantInd)
				}
			}
		}
	}
	for _, k := range []uint32{7, 8, 0xffffffff} {
		p := Program{stmt(opLdxMsh, k), ret(1)}
		if got, want := runBoth(t, p, data, 8) == 1, k < 8; got != want {
			t.Errorf("ldxb 4*([%d]&0xf): ran %v, want %v", k, got, want)
		}
	}
	if got := runBoth(t, Program{stmt(opLdB, 0), retA}, nil, 0); got != 0 {
		t.Errorf("load from empty packet = %d, want 0", got)
	}
}

func TestRunEdgeCases(t *testing.T) {
	data := []byte{0, 1, 2, 3}
	tests := []struct {
		name string
		p    Program
		want uint32
	}{
		{"div by zero x rejects", Program{stmt(opLdImm, 5), stmt(opDivX, 0), ret(1)}, 0},
		{"mod by zero x rejects", Program{stmt(opLdImm, 5), stmt(opModX, 0), ret(1)}, 0},
		{"div by zero k rejects", Program{stmt(opLdImm, 5), stmt(opDivK, 0), ret(1)}, 0},
		{"mod by zero k rejects", Program{stmt(opLdImm, 5), stmt(opModK, 0), ret(1)}, 0},
		// libpcap's bpf_filter and Go give 0; the kernel would mask the count.
		{"lsh x by 32", Program{stmt(opLdxImm, 32), stmt(opLdImm, 5), stmt(opLshX, 0), retA}, 0},
		{"rsh x by 33", Program{stmt(opLdxImm, 33), stmt(opLdImm, 0x80000000), stmt(opRshX, 0), retA}, 0},
		{"lsh x by 31", Program{stmt(opLdxImm, 31), stmt(opLdImm, 1), stmt(opLshX, 0), retA}, 0x80000000},
		{"lsh k by 32 (refused by Validate)", Program{stmt(opLdImm, 5), stmt(opLshK, 32), retA}, 0},
		{"unknown opcode rejects", Program{stmt(0x0e, 0), ret(1)}, 0},
		{"empty program rejects", Program{}, 0},
		{"running off the end rejects", Program{stmt(opLdImm, 1)}, 0},
		{"scratch index 16 rejects", Program{stmt(opSt, 16), ret(1)}, 0},
		{"ldx scratch index 16 rejects", Program{stmt(opLdxMem, 16), ret(1)}, 0},
		{"jump past the end rejects", Program{jump(opJeqK, 0, 5, 5), ret(1)}, 0},
		{"ja past the end rejects", Program{stmt(opJa, 1), ret(1)}, 0},
		{"ja huge rejects", Program{stmt(opJa, 0x7fffffff), ret(1)}, 0},
		{"ja to itself rejects", Program{stmt(opJa, 0xffffffff), ret(1)}, 0},
		{"ja before the start rejects", Program{stmt(opJa, 0xfffffffd), ret(1)}, 0},
		{"ancillary load rejects offline", Program{stmt(opLdW, ancillaryBase), ret(1)}, 0},
		{"ret a", Program{stmt(opLdImm, 77), retA}, 77},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runBoth(t, tt.p, data, len(data)); got != tt.want {
				t.Errorf("Run = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestRunBackwardJumps runs a counting loop the way tcpdump's protochain
// loops: backward "ja" with a signed offset, bounded per packet.
func TestRunBackwardJumps(t *testing.T) {
	loop := func(n uint32) Program {
		return Program{
			stmt(opLdxImm, 0),      // 0: X = 0
			stmt(opTxa, 0),         // 1: A = X
			jump(opJgeK, n, 3, 0),  // 2: done when X >= n
			stmt(opAddK, 1),        // 3: A++
			stmt(opTax, 0),         // 4: X = A
			stmt(opJa, 0xfffffffb), // 5: back to 1
			retA,                   // 6: return X
		}
	}
	for _, tt := range []struct {
		n    uint32
		want uint32
	}{{0, 0}, {5, 5}, {maxBackwardJumps, maxBackwardJumps}, {maxBackwardJumps + 1, 0}} {
		if got := runBoth(t, loop(tt.n), nil, 0); got != tt.want {
			t.Errorf("loop of %d: Run = %d, want %d", tt.n, got, tt.want)
		}
	}
	if _, err := NewVM(loop(3)); err != nil {
		t.Errorf("NewVM refuses a backward jump: %v", err)
	}
	if err := Validate(loop(3)); err == nil {
		t.Error("Validate accepts a backward jump the kernel refuses")
	}
}

func TestRunDoesNotAllocate(t *testing.T) {
	pkt := benchPacket()
	vm, err := NewVM(benchProgram)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { Run(benchProgram, pkt, len(pkt)) }); n != 0 {
		t.Errorf("Run allocates %v times per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { vm.Run(pkt, len(pkt)) }); n != 0 {
		t.Errorf("VM.Run allocates %v times per call", n)
	}
}

// TestNewVMCopiesProgram guards against the caller changing the program
// under a VM.
func TestNewVMCopiesProgram(t *testing.T) {
	p := Program{ret(5)}
	vm, err := NewVM(p)
	if err != nil {
		t.Fatal(err)
	}
	p[0].K = 9
	if got := vm.Run(nil, 0); got != 5 {
		t.Errorf("VM.Run = %d after the caller changed its program, want 5", got)
	}
}

// TestRunTcpdumpVerdicts runs every program of the dump golden, optimized
// and not, through Run and the VM on hand-made packets and compares the
// verdicts with what tcpdump -r selects from the same packets.
func TestRunTcpdumpVerdicts(t *testing.T) {
	if testutil.Update() {
		writeVerdictsGolden(t)
	}
	want := readVerdictsGolden(t)
	packets := map[string][]testPacket{}
	for _, lt := range verdictLinkTypes {
		packets[lt] = verdictPackets(lt)
	}
	checked := 0
	for _, e := range readDumpGolden(t) {
		matches, ok := want[verdictKey(e.linkType, e.optimized, e.expr)]
		if !ok {
			t.Errorf("%s: no tcpdump verdicts in %s", e.name(), verdictsGolden)
			continue
		}
		p, err := e.program()
		if err != nil {
			t.Fatal(err)
		}
		vm, err := NewVM(p)
		if err != nil {
			t.Errorf("%s: NewVM: %v", e.name(), err)
			continue
		}
		for i, pkt := range packets[e.linkType] {
			wantMatch := slices.Contains(matches, i)
			if got := Run(p, pkt.data, pkt.wireLen) != 0; got != wantMatch {
				t.Errorf("%s: packet %d: Run matched %v, tcpdump %v", e.name(), i, got, wantMatch)
			}
			if got := vm.Run(pkt.data, pkt.wireLen) != 0; got != wantMatch {
				t.Errorf("%s: packet %d: VM.Run matched %v, tcpdump %v", e.name(), i, got, wantMatch)
			}
			checked++
		}
	}
	if checked < 10000 {
		t.Errorf("checked %d verdicts, want at least 10000", checked)
	}
}

// verdictKey names one compiled program: the optimizer may change the
// verdict on truncated packets (a load it removed cannot fail), so tcpdump
// -O gives the unoptimized program's verdicts.
func verdictKey(linkType string, optimized bool, expr string) string {
	mode := "unoptimized"
	if optimized {
		mode = "optimized"
	}
	return linkType + "\t" + mode + "\t" + expr
}

// readVerdictsGolden maps lines "LINKTYPE\tMODE\texpr\tINDEXES" from
// verdictKey to the indexes of the packets tcpdump selected.
func readVerdictsGolden(t testing.TB) map[string][]int {
	t.Helper()
	f, err := os.Open(verdictsGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 4 {
			t.Fatalf("%s: bad line %q", verdictsGolden, sc.Text())
		}
		var idx []int
		for _, s := range strings.Fields(fields[3]) {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("%s: bad line %q", verdictsGolden, sc.Text())
			}
			idx = append(idx, n)
		}
		out[strings.Join(fields[:3], "\t")] = idx
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeVerdictsGolden filters a pcap of verdictPackets with the local
// tcpdump for every expression of the dump list; packet i carries
// timestamp i, which identifies it in tcpdump's output.
func writeVerdictsGolden(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	list, err := os.ReadFile(dumpExpressions)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	linkTypes := map[string]pcap.LinkType{"EN10MB": pcap.LinkTypeEthernet, "LINUX_SLL": pcap.LinkTypeLinuxSLL, "RAW": pcap.LinkTypeRaw}
	for _, lt := range verdictLinkTypes {
		files[lt] = writeTestPcap(t, linkTypes[lt], verdictPackets(lt))
	}
	lines := strings.Split(strings.TrimSpace(string(list)), "\n")
	results := make([]string, 2*len(lines))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, line := range lines {
		lt, expr, _ := strings.Cut(line, "\t")
		for j, optimized := range []bool{true, false} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				idx, err := tcpdumpSelects(tcpdump, files[lt], expr, optimized)
				if err != nil {
					t.Errorf("%s %s: %v", lt, expr, err)
					return
				}
				results[2*i+j] = verdictKey(lt, optimized, expr) + "\t" + strings.Trim(fmt.Sprint(idx), "[]")
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if err := os.WriteFile(verdictsGolden, []byte(strings.Join(results, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeTestPcap(t *testing.T, lt pcap.LinkType, pkts []testPacket) string {
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.FileHeader{LinkType: lt})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		ci := pcap.CaptureInfo{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(p.data), Length: p.wireLen}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), lt.String()+".pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tcpdumpSelects returns the timestamps (seconds) of the packets tcpdump
// writes for expr, reading its pcap output.
func tcpdumpSelects(tcpdump, file, expr string, optimized bool) ([]int, error) {
	args := []string{"-r", file, "-w", "-"}
	if !optimized {
		args = append(args, "-O")
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tcpdump, append(args, "--", expr)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if len(out) < 24 {
		return nil, fmt.Errorf("short pcap output (%d bytes)", len(out))
	}
	var idx []int
	for rest := out[24:]; len(rest) > 0; {
		if len(rest) < 16 {
			return nil, fmt.Errorf("truncated record header")
		}
		incl := int(binary.LittleEndian.Uint32(rest[8:]))
		idx = append(idx, int(binary.LittleEndian.Uint32(rest[0:])))
		if len(rest) < 16+incl {
			return nil, fmt.Errorf("truncated record")
		}
		rest = rest[16+incl:]
	}
	return idx, nil
}

// FuzzDecodedVM runs arbitrary programs: Run must never panic, and on
// every program NewVM accepts the decoded VM must return what Run does.
func FuzzDecodedVM(f *testing.F) {
	f.Add(byte(20), encodeProgram(benchProgram), benchPacket(), uint16(74))
	f.Add(byte(3), encodeProgram(Program{stmt(opLdImm, 0), stmt(opJa, 0xfffffffe), ret(1)}), []byte{}, uint16(0))
	f.Add(byte(4), encodeProgram(Program{stmt(opLdB, 0), jump(opJgeK, 2, 0, 1), ret(1), retA}), []byte{3}, uint16(9))
	f.Fuzz(func(t *testing.T, n byte, code, data []byte, wireLen uint16) {
		p := decodeProgram(code, int(n)%64)
		got := Run(p, data, int(wireLen))
		vm, err := NewVM(p)
		if err != nil {
			return
		}
		if v := vm.Run(data, int(wireLen)); v != got {
			t.Fatalf("VM.Run = %d, Run = %d\npacket % x\n%s", v, got, data, Dump(p, DumpAssembly))
		}
	})
}
