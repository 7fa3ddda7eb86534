package filter

import (
	"strconv"
	"strings"
)

// optimize simplifies the graph with passes run to a fixpoint:
//   - a test whose operands are constants is decided at compile time;
//   - an edge into a test already decided on every path to that edge (the
//     same value compared the same way, or a value known equal to a
//     constant) jumps straight to the test's outcome;
//   - a test whose branches meet is dropped when nothing after it needs
//     the registers it leaves behind.
//
// As with libpcap's optimizer, a dropped test no longer loads packet
// bytes, so a packet too short for that load is no longer rejected by it;
// weir follows libpcap here so verdicts stay identical to tcpdump's.
func optimize(root *block) *block {
	for {
		changed := false
		// A decided test at the entry is skipped like any other.
		for hops := 0; !root.isReturn(); hops++ {
			outcome, ok := decide(root, valueKey(root), nil)
			if !ok {
				break
			}
			if a, x, mem := readsAtEntry(root.succ(outcome)); a || x || mem {
				break
			}
			root, changed = root.succ(outcome), true
		}
		if threadEdges(root) {
			changed = true
		}
		if r, ok := dropMeetingTests(root); ok {
			root, changed = r, true
		}
		if !changed {
			return root
		}
	}
}

// acceptsSome reports whether any path from root returns a non-zero length.
func acceptsSome(root *block) bool {
	for _, b := range postOrder(root) {
		if b.isReturn() && (b.jump.op != ClassRet|SrcK || b.jump.k != 0) {
			return true
		}
	}
	return false
}

// fact is what an edge tells about a value: that a test on it came out
// one way.
type fact struct {
	value   string // canonical form of the statements computing the value
	jump    statement
	outcome bool
}

// valueKey is the canonical form of a block's statements when they compute
// A from the packet alone (no register or scratch state from before), or
// "" when they do not.
func valueKey(b *block) string {
	aIn, xIn, memIn := readsAtEntry(b)
	if aIn || xIn || memIn || b.isReturn() {
		return ""
	}
	var sb strings.Builder
	for _, s := range b.stmts {
		sb.WriteString(strconv.FormatUint(uint64(s.op), 16))
		sb.WriteByte(':')
		sb.WriteString(strconv.FormatUint(uint64(s.k), 16))
		sb.WriteByte(';')
	}
	if b.jump.op&SrcX != 0 {
		sb.WriteString("x")
	}
	return sb.String()
}

// readsAtEntry tells whether a block (statements and jump) uses A, X or a
// scratch slot before setting it.
func readsAtEntry(b *block) (a, x, mem bool) {
	var aSet, xSet bool
	var memSet [MemWords]bool
	useA := func() {
		if !aSet {
			a = true
		}
	}
	useX := func() {
		if !xSet {
			x = true
		}
	}
	for _, s := range b.stmts {
		switch Class(s.op) {
		case ClassLd:
			switch s.op & 0xe0 {
			case ModeInd:
				useX()
			case ModeMem:
				if s.k >= MemWords || !memSet[s.k] {
					mem = true
				}
			}
			aSet = true
		case ClassLdx:
			if s.op&0xe0 == ModeMem && (s.k >= MemWords || !memSet[s.k]) {
				mem = true
			}
			xSet = true
		case ClassSt:
			useA()
			if s.k < MemWords {
				memSet[s.k] = true
			}
		case ClassStx:
			useX()
			if s.k < MemWords {
				memSet[s.k] = true
			}
		case ClassAlu:
			useA()
			if s.op&SrcX != 0 && s.op&0xf0 != AluNeg {
				useX()
			}
		case ClassMisc:
			if s.op&0xf8 == MiscTxa {
				useX()
				aSet = true
			} else {
				useA()
				xSet = true
			}
		default:
			a, x, mem = true, true, true
		}
	}
	switch Class(b.jump.op) {
	case ClassJmp:
		useA()
		if b.jump.op&SrcX != 0 {
			useX()
		}
	case ClassRet:
		if b.jump.op&0x18 == SrcA {
			useA()
		}
	}
	return a, x, mem
}

// constantValue runs a block's statements on values that are either
// known constants or unknown packet data. It succeeds when A (and X, when
// the jump uses it) end up known: "ld [26]; and #0" is 0 whatever the
// packet holds, and, as in libpcap, the load is then dead and dropped.
func constantValue(b *block) (a, x uint32, ok bool) {
	type val struct {
		v     uint32
		known bool
	}
	var ra, rx val
	var mem [MemWords]val
	for _, s := range b.stmts {
		switch {
		case s.op == ClassLd|ModeImm:
			ra = val{s.k, true}
		case s.op == ClassLdx|ModeImm:
			rx = val{s.k, true}
		case s.op == ClassLd|ModeMem:
			ra = mem[s.k%MemWords]
		case s.op == ClassLdx|ModeMem:
			rx = mem[s.k%MemWords]
		case s.op == ClassSt:
			mem[s.k%MemWords] = ra
		case s.op == ClassStx:
			mem[s.k%MemWords] = rx
		case s.op == ClassMisc|MiscTax:
			rx = ra
		case s.op == ClassMisc|MiscTxa:
			ra = rx
		case Class(s.op) == ClassLd:
			ra = val{} // packet data or length
		case Class(s.op) == ClassLdx:
			rx = val{}
		case Class(s.op) == ClassAlu:
			operand := val{s.k, true}
			if s.op&SrcX != 0 && s.op&0xf0 != AluNeg {
				operand = rx
			}
			op := s.op & 0xf0
			switch {
			case operand.known && operand.v == 0 && (op == AluAnd || op == AluMul):
				ra = val{0, true}
			case ra.known && (operand.known || op == AluNeg):
				v, ok := alu(op, ra.v, operand.v)
				ra = val{v, ok}
			default:
				ra = val{}
			}
		default:
			return 0, 0, false
		}
	}
	if !ra.known || (b.jump.op&SrcX != 0 && !rx.known) {
		return 0, 0, false
	}
	return ra.v, rx.v, true
}

// alu applies one ALU operation; division by zero is left to run time.
func alu(op uint16, a, v uint32) (uint32, bool) {
	switch op {
	case AluAdd:
		return a + v, true
	case AluSub:
		return a - v, true
	case AluMul:
		return a * v, true
	case AluDiv:
		if v == 0 {
			return 0, false
		}
		return a / v, true
	case AluMod:
		if v == 0 {
			return 0, false
		}
		return a % v, true
	case AluOr:
		return a | v, true
	case AluAnd:
		return a & v, true
	case AluXor:
		return a ^ v, true
	case AluLsh:
		if v >= 32 {
			return 0, true
		}
		return a << v, true
	case AluRsh:
		if v >= 32 {
			return 0, true
		}
		return a >> v, true
	case AluNeg:
		return -a, true
	}
	return 0, false
}

// testHolds evaluates a jump on a known A (and X).
func testHolds(j statement, a, x uint32) bool {
	v := j.k
	if j.op&SrcX != 0 {
		v = x
	}
	switch j.op & 0xf0 {
	case JmpJeq:
		return a == v
	case JmpJgt:
		return a > v
	case JmpJge:
		return a >= v
	case JmpJset:
		return a&v != 0
	}
	return false
}

// decide tells whether b's test outcome is known, from constants or from
// the facts that hold on the way in.
func decide(b *block, key string, known []fact) (outcome, ok bool) {
	if b.isReturn() || Class(b.jump.op) != ClassJmp || b.jump.op&0xf0 == JmpJa {
		return false, false
	}
	if a, x, isConst := constantValue(b); isConst {
		if _, xIn, memIn := readsAtEntry(b); !xIn && !memIn {
			return testHolds(b.jump, a, x), true
		}
	}
	if key == "" || b.jump.op&SrcX != 0 {
		return false, false
	}
	for _, f := range known {
		if f.value != key {
			continue
		}
		if f.jump == b.jump {
			return f.outcome, true
		}
		if f.outcome && f.jump.op == ClassJmp|JmpJeq|SrcK {
			// The value equals f.jump.k.
			return testHolds(b.jump, f.jump.k, 0), true
		}
	}
	return false, false
}

// threadEdges redirects every edge whose target's test is already decided
// on every path to it. It reports whether anything changed.
func threadEdges(root *block) bool {
	order := postOrder(root)
	keys := make(map[*block]string, len(order))
	for _, b := range order {
		keys[b] = valueKey(b)
	}
	in := factsIn(root, order, keys)
	changed := false
	for i := len(order) - 1; i >= 0; i-- {
		p := order[i]
		if p.isReturn() {
			continue
		}
		for _, onTrue := range [2]bool{true, false} {
			known := append(append([]fact(nil), in[p]...), edgeFact(p, keys[p], onTrue)...)
			t := p.succ(onTrue)
			for hops := 0; hops < len(order); hops++ {
				outcome, ok := decide(t, keys[t], known)
				if !ok {
					break
				}
				if a, x, mem := readsAtEntry(t.succ(outcome)); a || x || mem {
					break // the skipped statements feed the next block
				}
				known = append(known, edgeFact(t, keys[t], outcome)...)
				t = t.succ(outcome)
			}
			if t != p.succ(onTrue) {
				p.setSucc(onTrue, t)
				changed = true
			}
		}
	}
	return changed
}

func (b *block) succ(onTrue bool) *block {
	if onTrue {
		return b.jt
	}
	return b.jf
}

func (b *block) setSucc(onTrue bool, t *block) {
	if onTrue {
		b.jt = t
	} else {
		b.jf = t
	}
}

func edgeFact(b *block, key string, onTrue bool) []fact {
	if key == "" {
		return nil
	}
	return []fact{{value: key, jump: b.jump, outcome: onTrue}}
}

// factsIn computes, for each block, the facts true on every path into it:
// the intersection over incoming edges of what the edge's source knew
// plus the edge's own outcome.
func factsIn(root *block, order []*block, keys map[*block]string) map[*block][]fact {
	in := make(map[*block][]fact, len(order))
	seen := make(map[*block]bool, len(order))
	seen[root] = true
	in[root] = nil
	for i := len(order) - 1; i >= 0; i-- {
		p := order[i]
		if p.isReturn() {
			continue
		}
		for _, onTrue := range [2]bool{true, false} {
			out := append(append([]fact(nil), in[p]...), edgeFact(p, keys[p], onTrue)...)
			t := p.succ(onTrue)
			if !seen[t] {
				seen[t] = true
				in[t] = out
				continue
			}
			in[t] = intersectFacts(in[t], out)
		}
	}
	return in
}

func intersectFacts(a, b []fact) []fact {
	var out []fact
	for _, f := range a {
		for _, g := range b {
			if f == g {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// dropMeetingTests removes tests whose two branches lead to the same block,
// when that block does not read the registers the test's statements set.
// It returns the (possibly new) root and whether anything changed.
func dropMeetingTests(root *block) (*block, bool) {
	order := postOrder(root)
	bypass := make(map[*block]*block)
	for _, b := range order {
		if b.isReturn() || b.jt != b.jf {
			continue
		}
		if !bypassable(b, order) {
			continue
		}
		bypass[b] = b.jt
	}
	if len(bypass) == 0 {
		return root, false
	}
	resolve := func(b *block) *block {
		for {
			next, ok := bypass[b]
			if !ok {
				return b
			}
			b = next
		}
	}
	for _, b := range order {
		if !b.isReturn() {
			b.jt, b.jf = resolve(b.jt), resolve(b.jf)
		}
	}
	return resolve(root), true
}

// bypassable tells whether skipping b changes nothing but the loads it
// would have made: its successor sets A and X before using them, and no
// other block reads a scratch slot b writes.
func bypassable(b *block, order []*block) bool {
	if a, x, mem := readsAtEntry(b.jt); a || x || mem {
		return false
	}
	for _, s := range b.stmts {
		if Class(s.op) == ClassSt || Class(s.op) == ClassStx {
			for _, other := range order {
				if other != b && readsSlot(other, s.k) {
					return false
				}
			}
		}
	}
	return true
}

func readsSlot(b *block, k uint32) bool {
	for _, s := range b.stmts {
		if (s.op == ClassLd|ModeMem || s.op == ClassLdx|ModeMem) && s.k == k {
			return true
		}
	}
	return false
}
