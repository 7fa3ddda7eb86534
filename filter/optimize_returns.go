package filter

// Rejecting paths. A load past the end of the packet makes the program
// return 0, so code whose every path returns 0 has the same verdict as
// "ret #0" on every packet, however its loads fare; and before a return
// of a constant only statements that can stop the program matter.

// collapseRejecting sends every edge into a block from which all paths
// return 0 straight to a return of 0, and drops the statements of
// returns that cannot change the verdict. It returns the new root and
// whether anything changed.
func collapseRejecting(root *oblock, nBlocks int) (*oblock, bool) {
	zero := make([]int8, nBlocks) // 0 unknown, 1 every path returns 0, -1 not
	var reject *oblock
	changed := false
	var visit func(b *oblock) bool
	visit = func(b *oblock) bool {
		if zero[b.id] != 0 {
			return zero[b.id] > 0
		}
		z := false
		if b.isLeaf() {
			z = b.s.code == int32(ClassRet|SrcK) && b.s.k == 0
			if z && reject == nil {
				reject = b
			}
			if dropUnneededBeforeReturn(b) {
				changed = true
			}
		} else {
			zt, zf := visit(b.jt()), visit(b.jf())
			z = zt && zf
		}
		zero[b.id] = -1
		if z {
			zero[b.id] = 1
		}
		return z
	}
	if visit(root) {
		if root != reject || nextOp(root.stmts, 0) >= 0 {
			return reject, true
		}
		return root, changed
	}
	seen := make([]bool, nBlocks)
	var redirect func(b *oblock)
	redirect = func(b *oblock) {
		if seen[b.id] || b.isLeaf() {
			return
		}
		seen[b.id] = true
		for _, e := range [2]*oedge{&b.et, &b.ef} {
			if zero[e.succ.id] > 0 && e.succ != reject {
				e.succ = reject
				changed = true
			}
			redirect(e.succ)
		}
	}
	redirect(root)
	return root, changed
}

// dropUnneededBeforeReturn deletes statements of a return block that
// cannot decide the verdict: all of them before "ret #0", and before a
// return of another constant those that can neither stop the program nor
// feed one that can (the X of "ld [x + k]" or "div x").
func dropUnneededBeforeReturn(b *oblock) bool {
	if uint16(b.s.code) != ClassRet|SrcK {
		return false
	}
	var needed atomset // atoms read by the statements kept after this one
	changed := false
	for i := len(b.stmts) - 1; i >= 0; i-- {
		s := b.stmts[i]
		if s.code == opNop {
			continue
		}
		def := atomDef(s)
		feeds := def >= 0 && needed.has(def)
		if b.s.k == 0 || !feeds && !canAbort(s) {
			b.stmts[i].code = opNop
			changed = true
			continue
		}
		if def >= 0 {
			needed &^= 1 << def
		}
		if feeds {
			addUse(s, 0, &needed)
		} else if atomUse(s) == atomX || atomUse(s) == atomAX {
			needed |= 1 << atomX // what decides whether it stops
		}
	}
	return changed
}

// canAbort tells whether a statement can end the program: a packet load
// past the captured bytes, or a division by a zero X.
func canAbort(s ostmt) bool {
	c := uint16(s.code)
	switch Class(c) {
	case ClassLd, ClassLdx:
		switch c & 0xe0 {
		case ModeAbs, ModeInd, ModeMsh:
			return true
		}
	case ClassAlu:
		op := c & 0xf0
		return c&SrcX != 0 && (op == AluDiv || op == AluMod)
	}
	return false
}
