package filter

import "slices"

// internBlocks merges identical blocks: same statements (deleted ones
// aside), same jump, same successors. libpcap's intern_blocks compares
// every pair and repeats until nothing changes, each block going to the
// highest-numbered block equal to it; hashing bottom-up reaches the same
// fixpoint in one walk, because two blocks become equal exactly when
// their successors have been merged.
func internBlocks(root *oblock, blocks []oblock, tmp *scratch) {
	n := len(blocks)
	buf := tmp.take(n + tableSize(n))
	// A block's class is its slot in reps, which holds the class's
	// highest id.
	class, reps := fill(buf[:n], n, -1), newClassTable(buf[n:])
	var visit func(b *oblock)
	visit = func(b *oblock) {
		if class[b.id] >= 0 {
			return
		}
		if !b.isLeaf() {
			visit(b.jt())
			visit(b.jf())
		}
		i := reps.find(blockHash(b, class), func(id int32) bool { return sameBlock(&blocks[id], b, class) })
		reps[i] = max(reps[i], b.id)
		class[b.id] = int32(i)
	}
	visit(root)
	rep := func(b *oblock) *oblock { return &blocks[reps[class[b.id]]] }
	seen := make([]bool, n)
	var redirect func(b *oblock)
	redirect = func(b *oblock) {
		if seen[b.id] || b.isLeaf() {
			return
		}
		seen[b.id] = true
		b.et.succ, b.ef.succ = rep(b.jt()), rep(b.jf())
		redirect(b.jt())
		redirect(b.jf())
	}
	redirect(root)
}

// blockHash hashes what sameBlock compares.
func blockHash(b *oblock, class []int32) uint32 {
	h := uint32(2166136261)
	add := func(v uint32) { h = (h ^ v) * 16777619 }
	add(uint32(b.s.code))
	add(b.s.k)
	if !b.isLeaf() {
		add(uint32(class[b.jt().id]))
		add(uint32(class[b.jf().id]))
	}
	for _, s := range b.stmts {
		if s.code != opNop {
			add(uint32(s.code))
			add(s.k)
		}
	}
	return h
}

// sameBlock tells whether a and b have the same statements (deleted ones
// aside), jump and successors' classes.
func sameBlock(a, b *oblock, class []int32) bool {
	if a.s != b.s || a.isLeaf() != b.isLeaf() {
		return false
	}
	if !a.isLeaf() && (class[a.jt().id] != class[b.jt().id] || class[a.jf().id] != class[b.jf().id]) {
		return false
	}
	i, j := nextOp(a.stmts, 0), nextOp(b.stmts, 0)
	for i >= 0 && j >= 0 {
		if a.stmts[i] != b.stmts[j] {
			return false
		}
		i, j = nextOp(a.stmts, i+1), nextOp(b.stmts, j+1)
	}
	return i < 0 && j < 0
}

// optRoot skips tests at the entry whose branches meet, moving the entry
// block's statements to the new entry so that its loads still happen,
// and drops the statements of an entry that returns (libpcap's opt_root).
func optRoot(root *oblock) *oblock {
	s := root.stmts
	root.stmts = nil
	for Class(uint16(root.s.code)) == ClassJmp && root.jt() == root.jf() {
		root = root.jt()
	}
	root.stmts = append(slices.Clip(s), root.stmts...)
	if Class(uint16(root.s.code)) == ClassRet {
		root.stmts = nil
	}
	return root
}
