package filter

import "math/bits"

// fuseTests merges a test into the one before it when together they are a
// single test of A: "jge #53; jgt #53" (portrange 53-53) is "jeq #53".
// The second block must have no statements, so it tests the A the first
// one tested, and no other predecessor, so it disappears; its jump is the
// only thing removed.
//
// Safety: the fused test sends every value of A where the two tests sent
// it, and no statement is added or removed, so every packet executes the
// same loads and reaches the same return.
func fuseTests(root *oblock, nBlocks int) (*oblock, bool) {
	order, preds := postorderWithPreds(root, nBlocks)
	changed := false
	for i := len(order) - 1; i >= 0; i-- {
		x := order[i]
		for !x.isLeaf() && isIntervalTest(x.s) {
			y, onTrue := x.jt(), true
			if !fusable(y, preds) {
				y, onTrue = x.jf(), false
				if !fusable(y, preds) {
					break
				}
			}
			jump, jt, jf, ok := fusedTest(x, y, onTrue)
			if !ok {
				break
			}
			x.s, x.et.succ, x.ef.succ = jump, jt, jf
			changed = true
		}
	}
	return root, changed
}

func fusable(y *oblock, preds []int32) bool {
	return !y.isLeaf() && nextOp(y.stmts, 0) < 0 && isIntervalTest(y.s) && preds[y.id] == 1
}

// isIntervalTest tells whether a jump compares A with a constant by
// equality or order, so that it splits the values of A into intervals.
func isIntervalTest(j ostmt) bool {
	switch uint16(j.code) {
	case ClassJmp | JmpJeq | SrcK, ClassJmp | JmpJgt | SrcK, ClassJmp | JmpJge | SrcK:
		return j.code >= 0
	}
	return false
}

func holds(j ostmt, a uint32) bool {
	return testHolds(statement{op: uint16(j.code), k: j.k}, a, 0)
}

// fusedTest finds one test equivalent to x's test followed, on its onTrue
// branch, by y's. Both split A's values at their constant and the
// constant plus one, so two such functions that agree at 0 and at every
// split point of either agree everywhere.
func fusedTest(x, y *oblock, onTrue bool) (ostmt, *oblock, *oblock, bool) {
	other := x.jf()
	if !onTrue {
		other = x.jt()
	}
	outcome := func(a uint32) *oblock {
		if holds(x.s, a) != onTrue {
			return other
		}
		if holds(y.s, a) {
			return y.jt()
		}
		return y.jf()
	}
	if other != y.jt() && other != y.jf() || y.jt() == y.jf() {
		return ostmt{}, nil, nil, false // three different outcomes, or a test to drop
	}
	k1, k2 := x.s.k, y.s.k
	constants := []uint32{k1, k2, k1 + 1, k2 + 1, k1 - 1, k2 - 1}
	for _, op := range []uint16{JmpJeq, JmpJgt, JmpJge} {
		for _, c := range constants {
			cand := ostmt{code: int32(ClassJmp | op | SrcK), k: c}
			points := []uint32{0, k1, k1 + 1, k2, k2 + 1, c, c + 1}
			for _, jt := range [2]*oblock{y.jt(), y.jf()} {
				jf := y.jf()
				if jt == y.jf() {
					jf = y.jt()
				}
				if sameOutcomes(cand, jt, jf, outcome, points) {
					return cand, jt, jf, true
				}
			}
		}
	}
	return ostmt{}, nil, nil, false
}

func sameOutcomes(j ostmt, jt, jf *oblock, outcome func(uint32) *oblock, points []uint32) bool {
	for _, a := range points {
		want := outcome(a)
		got := jf
		if holds(j, a) {
			got = jt
		}
		if got != want {
			return false
		}
	}
	return true
}

// rangeOfA bounds the value a block leaves in A from its own statements
// alone: a byte load is at most 0xff, "and #k" at most k, and so on.
func rangeOfA(stmts []ostmt) (lo, hi uint32) {
	lo, hi = 0, 0xffffffff // A from before the block: anything
	for _, s := range stmts {
		c := uint16(s.code)
		switch {
		case s.code == opNop || Class(c) != ClassLd && Class(c) != ClassAlu && c != ClassMisc|MiscTxa:
			continue // A unchanged
		case c == ClassLd|ModeImm:
			lo, hi = s.k, s.k
		case Class(c) == ClassLd && (c&0xe0 == ModeAbs || c&0xe0 == ModeInd) && c&0x18 == SizeB:
			lo, hi = 0, 0xff
		case Class(c) == ClassLd && (c&0xe0 == ModeAbs || c&0xe0 == ModeInd) && c&0x18 == SizeH:
			lo, hi = 0, 0xffff
		case c == ClassAlu|AluAnd|SrcK:
			lo, hi = 0, min(hi, s.k)
		case c == ClassAlu|AluRsh|SrcK && s.k < 32:
			lo, hi = lo>>s.k, hi>>s.k
		default:
			lo, hi = 0, 0xffffffff
		}
	}
	return lo, hi
}

// decidedTest tells whether b's test goes the same way for every value
// its statements can leave in A ("ldh [k]; jgt #0xffff" never holds,
// "jge #0" always does) and which way.
func decidedTest(b *oblock) (outcome, ok bool) {
	if b.isLeaf() || uint16(b.s.code)&SrcX != 0 {
		return false, false
	}
	lo, hi := rangeOfA(b.stmts)
	k := b.s.k
	switch uint16(b.s.code) & 0xf0 {
	case JmpJeq:
		if k < lo || k > hi {
			return false, true
		}
		if lo == hi {
			return true, true
		}
	case JmpJgt:
		if hi <= k {
			return false, true
		}
		if lo > k {
			return true, true
		}
	case JmpJge:
		if hi < k {
			return false, true
		}
		if lo >= k {
			return true, true
		}
	case JmpJset:
		if k&(1<<bits.Len32(hi)-1) == 0 {
			return false, true
		}
	}
	return false, false
}

// dropDecidedTests removes tests that go the same way whatever A holds.
// A block without statements is skipped by every edge into it; a block
// with statements absorbs its successor when it is that successor's only
// way in, so its statements run right before the successor's, as before.
// No statement is removed, so every packet runs the same loads; it
// returns the new root and whether anything changed.
func dropDecidedTests(root *oblock, nBlocks int) (*oblock, bool) {
	order, preds := postorderWithPreds(root, nBlocks)
	skip := make(map[*oblock]*oblock)
	changed := false
	for _, b := range order { // successors first
		if b.isLeaf() {
			continue
		}
		outcome, ok := decidedTest(b)
		if !ok {
			continue
		}
		next := b.jf()
		if outcome {
			next = b.jt()
		}
		skipped, isSkipped := skip[next]
		switch {
		case nextOp(b.stmts, 0) < 0:
			if isSkipped {
				next = skipped
			}
			skip[b] = next
			changed = true
		case !isSkipped && preds[next.id] == 1:
			// b is next's only way in.
			b.stmts = append(b.stmts, next.stmts...)
			b.s, b.et.succ, b.ef.succ = next.s, next.et.succ, next.ef.succ
			changed = true
		}
	}
	if len(skip) == 0 {
		return root, changed
	}
	resolve := func(b *oblock) *oblock {
		if t, ok := skip[b]; ok {
			return t
		}
		return b
	}
	for _, b := range order {
		if !b.isLeaf() {
			b.et.succ, b.ef.succ = resolve(b.jt()), resolve(b.jf())
		}
	}
	return resolve(root), true
}

// postorderWithPreds lists the blocks reachable from root, successors
// before their predecessors, and counts each block's ways in.
func postorderWithPreds(root *oblock, nBlocks int) (order []*oblock, preds []int32) {
	preds = make([]int32, nBlocks)
	seen := make([]bool, nBlocks)
	var visit func(b *oblock)
	visit = func(b *oblock) {
		if seen[b.id] {
			return
		}
		seen[b.id] = true
		if !b.isLeaf() {
			preds[b.jt().id]++
			preds[b.jf().id]++
			visit(b.jt())
			visit(b.jf())
		}
		order = append(order, b)
	}
	visit(root)
	return order, preds
}
