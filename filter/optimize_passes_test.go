package filter

import (
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// Tests of single passes. libpcap's passes are held to tcpdump's output by
// TestOptimizeMatchesTcpdump; here each gets an expression that needs it.
// weir's own passes run on small hand-made graphs, and must keep the
// verdict of every packet cut at every length.

func TestLibpcapPasses(t *testing.T) {
	for _, tc := range []struct {
		pass, expr string
		want       string // the optimized program, as tcpdump -d prints it
	}{
		{"constant folding", "1 + 1 = 2", "(000) ret      #262144\n"},
		{"constant propagation through scratch slots", "len + (3 * 2) = 70",
			"(000) ld       #pktlen\n(001) add      #6\n(002) jeq      #0x46            jt 3\tjf 4\n(003) ret      #262144\n(004) ret      #0\n"},
		{"peephole and #k; jeq #0 -> jset", "ether[0] & 2 = 0",
			"(000) ldb      [0]\n(001) jset     #0x2             jt 2\tjf 3\n(002) ret      #0\n(003) ret      #262144\n"},
		{"peephole sub x; jeq #0 -> jeq x", "len - len = 0",
			"(000) ld       #pktlen\n(001) tax      \n(002) jeq      x                jt 3\tjf 4\n(003) ret      #262144\n(004) ret      #0\n"},
		{"redundant load and edge threading", "ip proto 6 and ip proto 6",
			"(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 5\n(002) ldb      [23]\n(003) jeq      #0x6             jt 4\tjf 5\n(004) ret      #262144\n(005) ret      #0\n"},
		{"threading by a dominating equality", "ip and tcp",
			"(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 5\n(002) ldb      [23]\n(003) jeq      #0x6             jt 4\tjf 5\n(004) ret      #262144\n(005) ret      #0\n"},
		{"entry test whose branches meet", "ip or not ip", "(000) ret      #262144\n"},
		{"or pullup", "ip host 10.0.0.1 or ip host 10.0.0.2",
			"(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 9\n(002) ld       [26]\n(003) jeq      #0xa000001       jt 8\tjf 4\n" +
				"(004) jeq      #0xa000002       jt 8\tjf 5\n(005) ld       [30]\n(006) jeq      #0xa000001       jt 8\tjf 7\n" +
				"(007) jeq      #0xa000002       jt 8\tjf 9\n(008) ret      #262144\n(009) ret      #0\n"},
	} {
		t.Run(tc.pass, func(t *testing.T) {
			p, err := libpcapOptimized(tc.expr, pcap.LinkTypeEthernet)
			if err != nil {
				t.Fatal(err)
			}
			if got := Dump(p, DumpAssembly); got != tc.want {
				t.Fatalf("%q:\n%s\nwant:\n%s", tc.expr, got, tc.want)
			}
		})
	}
}

// TestLibpcapOptimizerErrors: libpcap's optimizer refuses what constant
// folding shows to divide by zero, and, as its 1.10.3 peephole turns
// "x & 0xffffffff = 0" into a test that never holds, so does weir.
func TestLibpcapOptimizerErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"len / (1 - 1) = 0":           "division by zero",
		"len % (2 - 2) = 0":           "modulus by zero",
		"ether[0:4] & 0xffffffff = 0": "expression rejects all packets",
		"ip and ip6":                  "expression rejects all packets",
	} {
		_, err := Compile(expr, Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", expr, err, want)
		}
	}
}

// graph helpers: blocks built by hand.
func testBlock(jump statement, jt, jf *block, stmts ...statement) *block {
	return &block{stmts: stmts, jump: jump, jt: jt, jf: jf}
}

func jmpK(op uint16, k uint32) statement { return statement{op: ClassJmp | op | SrcK, k: k} }

// runPass copies the graph under root, applies pass, and returns the
// programs before and after.
func runPass(t *testing.T, root *block, pass func(*oblock, int) (*oblock, bool)) (before, after Program, changed bool) {
	t.Helper()
	before, err := assemble(root)
	if err != nil {
		t.Fatal(err)
	}
	o, ok := newOptimizer(root)
	if !ok {
		t.Fatal("graph refused")
	}
	o.root, changed = pass(o.root, len(o.blocks))
	after, err = assemble(toIR(o.root, len(o.blocks)))
	if err != nil {
		t.Fatal(err)
	}
	return before, after, changed
}

// randomPackets returns packets of every length up to n with random bytes
// and, so that equality tests can hold, bytes drawn from a few values.
func randomPackets(n int) []testPacket {
	rng := rand.New(rand.NewSource(int64(n)))
	var pkts []testPacket
	for i := 0; i < 300; i++ {
		data := make([]byte, n)
		for j := range data {
			if i%2 == 0 {
				data[j] = byte(rng.Intn(256))
			} else {
				data[j] = []byte{0, 1, 0x35, 0xff}[rng.Intn(4)]
			}
		}
		pkts = append(pkts, testPacket{data: data, wireLen: n})
	}
	return pkts
}

func TestFuseTests(t *testing.T) {
	accept, reject := retBlock(1), retBlock(0)
	// ldh [0]; jge #53 -> (jgt #53 -> reject, accept), reject: A == 53.
	y := testBlock(jmpK(JmpJgt, 53), reject, accept)
	x := testBlock(jmpK(JmpJge, 53), y, reject, ldAbs(SizeH, 0))
	before, after, changed := runPass(t, x, fuseTests)
	if !changed || len(after) != len(before)-1 {
		t.Fatalf("not fused:\n%s", Dump(after, DumpAssembly))
	}
	if !slices.ContainsFunc(after, func(in Instruction) bool { return in.Op == ClassJmp|JmpJeq && in.K == 53 }) {
		t.Fatalf("want jeq #53:\n%s", Dump(after, DumpAssembly))
	}
	if msg := sameVerdicts(before, after, randomPackets(4)); msg != "" {
		t.Fatal(msg)
	}
	// Three different outcomes cannot be one test.
	y = testBlock(jmpK(JmpJgt, 53), retBlock(2), accept)
	x = testBlock(jmpK(JmpJge, 53), y, reject, ldAbs(SizeH, 0))
	if _, _, changed := runPass(t, x, fuseTests); changed {
		t.Fatal("fused a test with three outcomes")
	}
	// A second test with statements of its own is not fused: it may load.
	y = testBlock(jmpK(JmpJgt, 53), reject, accept, ldAbs(SizeB, 9))
	x = testBlock(jmpK(JmpJge, 53), y, reject, ldAbs(SizeH, 0))
	if _, _, changed := runPass(t, x, fuseTests); changed {
		t.Fatal("fused a test that loads")
	}
}

func TestDropDecidedTests(t *testing.T) {
	accept, reject := retBlock(1), retBlock(0)
	// ldh [0] is at most 0xffff: "jgt #0xffff" never holds. The next block
	// has no other way in, so the two merge and both loads stay.
	next := testBlock(jmpK(JmpJeq, 7), accept, reject, ldAbs(SizeB, 5))
	x := testBlock(jmpK(JmpJgt, 0xffff), reject, next, ldAbs(SizeH, 0))
	before, after, changed := runPass(t, x, dropDecidedTests)
	if !changed || len(after) != len(before)-1 {
		t.Fatalf("not dropped:\n%s", Dump(after, DumpAssembly))
	}
	if after[0] != (Instruction{Op: opLdH, K: 0}) || after[1] != (Instruction{Op: opLdB, K: 5}) {
		t.Fatalf("both loads must stay, in order:\n%s", Dump(after, DumpAssembly))
	}
	if msg := sameVerdicts(before, after, randomPackets(8)); msg != "" {
		t.Fatal(msg)
	}
	// A decided test without statements is skipped by its predecessors.
	skip := testBlock(jmpK(JmpJge, 0), next, reject)
	x = testBlock(jmpK(JmpJeq, 1), skip, reject, ldAbs(SizeB, 0))
	before, after, changed = runPass(t, x, dropDecidedTests)
	if !changed || len(after) != len(before)-1 {
		t.Fatalf("not skipped:\n%s", Dump(after, DumpAssembly))
	}
	if msg := sameVerdicts(before, after, randomPackets(8)); msg != "" {
		t.Fatal(msg)
	}
}

func TestRangeOfA(t *testing.T) {
	for _, tc := range []struct {
		stmts  []statement
		lo, hi uint32
	}{
		{nil, 0, 0xffffffff},
		{[]statement{ldAbs(SizeB, 3)}, 0, 0xff},
		{[]statement{ldAbs(SizeH, 3)}, 0, 0xffff},
		{[]statement{ldAbs(SizeW, 3)}, 0, 0xffffffff},
		{[]statement{ldAbs(SizeH, 3), {op: ClassAlu | AluAnd | SrcK, k: 0x1fff}}, 0, 0x1fff},
		{[]statement{ldAbs(SizeH, 3), {op: ClassAlu | AluRsh | SrcK, k: 4}}, 0, 0xfff},
		{[]statement{{op: ClassLd | ModeImm, k: 9}}, 9, 9},
		{[]statement{ldAbs(SizeB, 3), {op: ClassAlu | AluAdd | SrcK, k: 1}}, 0, 0xffffffff},
		{[]statement{ldAbs(SizeB, 3), {op: ClassMisc | MiscTax}}, 0, 0xff},
	} {
		var st []ostmt
		for _, s := range tc.stmts {
			st = append(st, ostmt{code: int32(s.op), k: s.k})
		}
		if lo, hi := rangeOfA(st); lo != tc.lo || hi != tc.hi {
			t.Errorf("%v: [%#x, %#x], want [%#x, %#x]", tc.stmts, lo, hi, tc.lo, tc.hi)
		}
	}
}

func TestCollapseRejecting(t *testing.T) {
	accept, reject := retBlock(1), retBlock(0)
	// Both branches of the second test reject, through different blocks:
	// the test and its load go, since a failing load rejects too.
	other := testBlock(jmpK(JmpJeq, 1), reject, reject, ldAbs(SizeB, 20))
	second := testBlock(jmpK(JmpJeq, 2), reject, other, ldAbs(SizeB, 10))
	x := testBlock(jmpK(JmpJeq, 3), accept, second, ldAbs(SizeB, 0))
	before, after, changed := runPass(t, x, collapseRejecting)
	if !changed || len(after) != 4 {
		t.Fatalf("not collapsed:\n%s", Dump(after, DumpAssembly))
	}
	if msg := sameVerdicts(before, after, randomPackets(24)); msg != "" {
		t.Fatal(msg)
	}
	// A return of a constant keeps the loads before it, not the rest.
	ret := &block{stmts: []statement{ldAbs(SizeB, 30), {op: ClassLd | ModeLen}, {op: ClassMisc | MiscTax}}, jump: accept.jump}
	x = testBlock(jmpK(JmpJeq, 3), ret, reject, ldAbs(SizeB, 0))
	before, after, _ = runPass(t, x, collapseRejecting)
	want := Program{{Op: opLdB}, {Op: ClassJmp | JmpJeq, Jf: 2, K: 3}, {Op: opLdB, K: 30}, {Op: opRetK, K: 1}, {Op: opRetK}}
	if !slices.Equal(after, want) {
		t.Fatalf("got:\n%s\nwant:\n%s", Dump(after, DumpAssembly), Dump(want, DumpAssembly))
	}
	if msg := sameVerdicts(before, after, randomPackets(40)); msg != "" {
		t.Fatal(msg)
	}
	// What decides whether a kept statement stops the program stays: the
	// X of a division, and what sets it.
	ret = &block{jump: accept.jump, stmts: []statement{
		{op: ClassLd | ModeLen}, {op: ClassMisc | MiscTax}, {op: ClassLd | ModeImm, k: 8},
		{op: ClassAlu | AluDiv | SrcX}, {op: ClassAlu | AluAnd | SrcK, k: 0x12}}}
	x = testBlock(jmpK(JmpJeq, 3), ret, reject, ldAbs(SizeB, 0))
	before, after, _ = runPass(t, x, collapseRejecting)
	want = Program{{Op: opLdB}, {Op: ClassJmp | JmpJeq, Jf: 4, K: 3}, {Op: opLdLen}, {Op: ClassMisc | MiscTax},
		{Op: ClassAlu | AluDiv | SrcX}, {Op: opRetK, K: 1}, {Op: opRetK}}
	if !slices.Equal(after, want) {
		t.Fatalf("got:\n%s\nwant:\n%s", Dump(after, DumpAssembly), Dump(want, DumpAssembly))
	}
	zeroLength := []testPacket{{data: []byte{3}, wireLen: 0}, {data: []byte{3}, wireLen: 1}}
	if msg := sameVerdicts(before, after, append(zeroLength, randomPackets(4)...)); msg != "" {
		t.Fatal(msg)
	}
}

// TestLayoutCopiesReturns: a long program gets copies of its returns
// where libpcap puts "ja" trampolines, ends up shorter, still valid, and
// returns what libpcap's layout returns on every packet; a short one
// keeps libpcap's layout exactly.
func TestLayoutCopiesReturns(t *testing.T) {
	expr := hostsExpr(200)
	libpcap, err := libpcapOptimized(expr, pcap.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	weir, err := Compile(expr, Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	jas := func(p Program) int {
		n := 0
		for _, in := range p {
			if in.Op == ClassJmp|JmpJa {
				n++
			}
		}
		return n
	}
	if jas(libpcap) < 100 || len(weir) >= len(libpcap)-100 {
		t.Fatalf("libpcap: %d instructions, %d trampolines; weir: %d, %d", len(libpcap), jas(libpcap), len(weir), jas(weir))
	}
	if err := Validate(weir); err != nil {
		t.Fatal(err)
	}
	if n := unreachable(weir); n != 0 {
		t.Fatalf("%d instructions no path reaches", n)
	}
	var pkts []testPacket
	for _, p := range verdictPackets("EN10MB") {
		pkts = append(pkts, p)
		for _, host := range []uint32{0xc6120001, 0xc6120064, 0xc61200c8, 0xc61200c9} {
			q := testPacket{data: slices.Clone(p.data), wireLen: p.wireLen}
			if len(q.data) >= 34 {
				q.data[26], q.data[27], q.data[28], q.data[29] = byte(host>>24), byte(host>>16), byte(host>>8), byte(host)
				pkts = append(pkts, q)
			}
		}
	}
	if msg := sameVerdicts(libpcap, weir, pkts); msg != "" {
		t.Fatal(msg)
	}
	t.Logf("200 hosts: libpcap %d instructions (%d trampolines), weir %d (%d)", len(libpcap), jas(libpcap), len(weir), jas(weir))

	short, err := Compile("host 10.0.0.1", Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := libpcapOptimized("host 10.0.0.1", pcap.LinkTypeEthernet); !slices.Equal(short, want) {
		t.Fatalf("short program laid out differently:\n%s", Dump(short, DumpAssembly))
	}
}

// unreachable counts the instructions of p no path from the first
// reaches: wasted room, such as a trampoline slot left empty.
func unreachable(p Program) int {
	seen := make([]bool, len(p))
	var visit func(pc int)
	visit = func(pc int) {
		for pc < len(p) && !seen[pc] {
			seen[pc] = true
			in := p[pc]
			switch {
			case Class(in.Op) == ClassRet:
				return
			case in.Op == ClassJmp|JmpJa:
				pc += 1 + int(in.K)
			case Class(in.Op) == ClassJmp:
				visit(pc + 1 + int(in.Jt))
				pc += 1 + int(in.Jf)
			default:
				pc++
			}
		}
	}
	visit(0)
	n := 0
	for _, s := range seen {
		if !s {
			n++
		}
	}
	return n
}

// TestKernelLimit: past 4096 instructions Compile fails with a clear
// error after optimizing, instead of returning a program the kernel
// refuses.
func TestKernelLimit(t *testing.T) {
	_, err := Compile(hostsExpr(1500), Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
	if err == nil || !strings.Contains(err.Error(), "more than the kernel's limit of 4096") {
		t.Fatalf("got %v", err)
	}
}

// TestFastSearchesMatchLibpcaps: the index over dominating edges and the
// run segments of pullup walks give the graph libpcap's scans give, on
// every golden expression, on random ones and on long chains.
func TestFastSearchesMatchLibpcaps(t *testing.T) {
	var cases []struct {
		expr string
		lt   pcap.LinkType
	}
	add := func(expr string, lt pcap.LinkType) {
		cases = append(cases, struct {
			expr string
			lt   pcap.LinkType
		}{expr, lt})
	}
	for _, e := range readDumpGolden(t) {
		if lt, ok := pcap.LinkTypeByName(e.linkType); ok && e.optimized {
			add(e.expr, lt)
		}
	}
	rng := rand.New(rand.NewSource(7))
	for i := 0; i < 300; i++ {
		shape := make([]byte, 48)
		rng.Read(shape)
		add(randExpr(&byteSource{data: shape}, 4), pcap.LinkTypeEthernet)
	}
	add(hostsExpr(120), pcap.LinkTypeEthernet)
	add("tcp and ("+hostsExpr(40)+")", pcap.LinkTypeLinuxSLL)
	compared := 0
	for _, c := range cases {
		fast, noOptimize, errFast := genGraph(c.expr, c.lt)
		ref, _, errRef := genGraph(c.expr, c.lt)
		if errFast != nil || errRef != nil || noOptimize {
			continue
		}
		fast, errFast = optimizeWith(fast, true, false)
		ref, errRef = optimizeWith(ref, true, true)
		if (errFast == nil) != (errRef == nil) {
			t.Fatalf("%s %q: fast %v, libpcap's search %v", c.lt, c.expr, errFast, errRef)
		}
		if errFast != nil {
			continue
		}
		pf, _ := assemble(fast)
		pr, _ := assemble(ref)
		if !slices.Equal(pf, pr) {
			t.Fatalf("%s %q:\nfast:\n%s\nlibpcap's search:\n%s", c.lt, c.expr, Dump(pf, DumpAssembly), Dump(pr, DumpAssembly))
		}
		compared++
	}
	if compared < 600 {
		t.Fatalf("only %d expressions compared", compared)
	}
}
