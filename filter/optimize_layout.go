package filter

// Layout. The assembler lays blocks out as libpcap does and gives every
// branch longer than 255 instructions a "ja" trampoline. In long programs
// most such branches go to the two returns at the end: libpcap's output
// for 200 "host" terms spends more than a third of its instructions on
// trampolines. A return is one instruction and has no statements, so a
// copy of it placed within reach serves every branch near it for the
// price of one trampoline.
//
// Safety: a copy executes exactly what the original does (a return of the
// same value) and the branches that use it are otherwise unchanged, so
// every packet runs the same loads and gets the same verdict.

// maxBranch is the longest forward offset a conditional jump encodes.
const maxBranch = 255

// layoutBlocks returns the order to assemble the graph under root in
// (every block after its successors; the layout is the reverse) and sets
// the blocks' trampoline flags so that the assembler lays it out in one
// pass. Without long branches the order is libpcap's.
func layoutBlocks(root *block) []*block {
	order := postOrder(root)
	plainSize, long := planTrampolines(order)
	if long == 0 {
		return order
	}
	copied, undo := placeReturnCopies(root, order)
	if size, _ := planTrampolines(copied); size < plainSize {
		return copied
	}
	undo()
	planTrampolines(order)
	return order
}

// planTrampolines sets every block's trampoline flags for laying out
// order, from the last block to the first (a block's flags depend only on
// the blocks after it), and returns the program size and the number of
// trampolines.
func planTrampolines(order []*block) (size, long int) {
	dist := 0
	for _, b := range order {
		b.longJT, b.longJF = false, false
		if !b.isReturn() {
			b.longJT, b.longJF = farBranches(dist, b.jt, b.jf)
			if b.longJT {
				long++
			}
			if b.longJF {
				long++
			}
		}
		dist += blockSize(b)
		b.end = int32(dist)
	}
	return dist, long
}

// farBranches tells which branches of a jump need a trampoline when dist
// instructions follow its block, from its targets' ends: a trampoline
// placed after the jump lengthens the other branch too.
func farBranches(dist int, jt, jf *block) (longJT, longJF bool) {
	for {
		extra := 0
		if longJT {
			extra++
		}
		if longJF {
			extra++
		}
		t := longJT || dist+extra-int(jt.end) > maxBranch
		f := longJF || dist+extra-int(jf.end) > maxBranch
		if t == longJT && f == longJF {
			return longJT, longJF
		}
		longJT, longJF = t, f
	}
}

// placeReturnCopies builds a new order in which every branch to a return
// that would be out of reach goes to a copy of that return placed right
// after the branching block, the lowest place that serves it, so the copy
// reaches as many earlier branches as possible. Originals left without
// users are dropped. undo puts the moved branches back.
func placeReturnCopies(root *block, order []*block) (placed []*block, undo func()) {
	type move struct{ b, jt, jf *block }
	// At most one move per block, and in long chains most blocks move;
	// copies are few.
	moves := make([]move, 0, len(order))
	out := make([]*block, 0, len(order)+len(order)/16)
	nearest := map[statement]*block{} // the lowest-placed return of each kind so far
	dist := 0
	emit := func(b *block) {
		dist += blockSize(b)
		b.end = int32(dist)
		out = append(out, b)
	}
	for _, b := range order {
		if b.isReturn() {
			if len(b.stmts) == 0 {
				nearest[b.jump] = b
			}
			emit(b)
			continue
		}
		targets := [2]*block{b.jt, b.jf}
		var copies []*block
		for {
			after := dist + len(copies) // copies go right after b
			lt, lf := farBranches(after, targets[0], targets[1])
			i := -1
			if lt && targets[0].isReturn() && len(targets[0].stmts) == 0 {
				i = 0
			} else if lf && targets[1].isReturn() && len(targets[1].stmts) == 0 {
				i = 1
			}
			if i < 0 {
				b.longJT, b.longJF = lt, lf
				break
			}
			t := targets[i]
			c := nearest[t.jump]
			if c == t || after+2-int(c.end) > maxBranch {
				c = &block{jump: t.jump}
				copies = append(copies, c)
				c.end = int32(dist + len(copies))
				nearest[c.jump] = c
			}
			for j := range targets {
				if targets[j] == t {
					targets[j] = c
				}
			}
		}
		for _, c := range copies {
			emit(c) // at the end planned for it
		}
		if targets[0] != b.jt || targets[1] != b.jf {
			moves = append(moves, move{b, b.jt, b.jf})
			b.jt, b.jf = targets[0], targets[1]
		}
		emit(b)
	}
	markReachable(root)
	kept := out[:0]
	for _, b := range out {
		if b.mark {
			b.mark = false
			kept = append(kept, b)
		}
	}
	return kept, func() {
		for _, m := range moves {
			m.b.jt, m.b.jf = m.jt, m.jf
		}
	}
}

// markReachable marks the blocks reachable from b.
func markReachable(b *block) {
	if b == nil || b.mark {
		return
	}
	b.mark = true
	markReachable(b.jf)
	markReachable(b.jt)
}
