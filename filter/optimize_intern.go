package filter

import (
	"encoding/binary"
	"slices"
)

// internBlocks merges identical blocks: same statements (deleted ones
// aside), same jump, same successors. libpcap's intern_blocks compares
// every pair and repeats until nothing changes, each block going to the
// highest-numbered block equal to it; hashing bottom-up reaches the same
// fixpoint in one walk, because two blocks become equal exactly when
// their successors have been merged.
func internBlocks(root *oblock, nBlocks int) {
	class := make([]int, nBlocks)
	for i := range class {
		class[i] = -1
	}
	var reps []*oblock // representative of each class: its highest id
	byKey := map[string]int{}
	var key []byte
	var visit func(b *oblock)
	visit = func(b *oblock) {
		if class[b.id] >= 0 {
			return
		}
		jt, jf := -1, -1
		if !b.isLeaf() {
			visit(b.jt())
			visit(b.jf())
			jt, jf = class[b.jt().id], class[b.jf().id]
		}
		key = key[:0]
		key = binary.AppendVarint(key, int64(b.s.code))
		key = binary.AppendUvarint(key, uint64(b.s.k))
		key = binary.AppendVarint(key, int64(jt))
		key = binary.AppendVarint(key, int64(jf))
		for _, s := range b.stmts {
			if s.code != opNop {
				key = binary.AppendVarint(key, int64(s.code))
				key = binary.AppendUvarint(key, uint64(s.k))
			}
		}
		c, ok := byKey[string(key)]
		if !ok {
			c = len(reps)
			byKey[string(key)] = c
			reps = append(reps, b)
		} else if b.id > reps[c].id {
			reps[c] = b
		}
		class[b.id] = c
	}
	visit(root)
	seen := make([]bool, nBlocks)
	var redirect func(b *oblock)
	redirect = func(b *oblock) {
		if seen[b.id] || b.isLeaf() {
			return
		}
		seen[b.id] = true
		b.et.succ = reps[class[b.jt().id]]
		b.ef.succ = reps[class[b.jf().id]]
		redirect(b.jt())
		redirect(b.jf())
	}
	redirect(root)
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
