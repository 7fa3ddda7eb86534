package filter

import "fmt"

// assemble lays the graph out as a classic BPF program the way libpcap's
// icode_to_fcode does: blocks in reverse post-order (false branch visited
// first), each block once, so the unoptimized output matches tcpdump -O -d.
// A conditional jump further than 255 instructions gets an unconditional
// "ja" trampoline right after it; adding one moves everything, so layout
// restarts until every jump fits.
func assemble(root *block) (Program, error) {
	return assembleOrder(postOrder(root))
}

// assembleOrder lays blocks out in the reverse of order, which must list
// every block after all its successors.
func assembleOrder(order []*block) (Program, error) {
	for {
		prog, ok := layout(order)
		if ok {
			if len(prog) > MaxInstructions {
				return nil, fmt.Errorf("filter: program needs %d instructions, more than the kernel's limit of %d", len(prog), MaxInstructions)
			}
			return prog, nil
		}
	}
}

// postOrder lists the blocks reachable from root, children before parents,
// the false successor's subtree before the true one's.
func postOrder(root *block) []*block {
	var order []*block
	var visit func(b *block)
	visit = func(b *block) {
		if b == nil || b.mark {
			return
		}
		b.mark = true
		visit(b.jf)
		visit(b.jt)
		order = append(order, b)
	}
	visit(root)
	for _, b := range order {
		b.mark = false
	}
	return order
}

func blockSize(b *block) int {
	n := len(b.stmts) + 1
	if b.longJT {
		n++
	}
	if b.longJF {
		n++
	}
	return n
}

// layout emits the program from its end backwards, in post-order. When
// jumps do not fit it marks their blocks as needing a trampoline and
// reports failure, so the caller lays out again. Trampolines only make
// distances longer, so a jump that overflows once overflows in every later
// layout: marking all of them per pass reaches the same layout as
// libpcap's one-at-a-time retries, in fewer passes.
func layout(order []*block) (Program, bool) {
	total := 0
	for _, b := range order {
		total += blockSize(b)
	}
	prog := make(Program, total)
	tail := total
	fits := true
	for _, b := range order {
		tail -= blockSize(b)
		b.offset = int32(tail)
		pc := tail
		for _, s := range b.stmts {
			prog[pc] = Instruction{Op: s.op, K: s.k}
			pc++
		}
		resolveLocalJumps(prog[b.offset:pc], b.stmts)
		jump := Instruction{Op: b.jump.op, K: b.jump.k}
		if b.isReturn() || b.jump.op == ClassJmp|JmpJa {
			prog[pc] = jump
			continue
		}
		extra := 0
		var ok bool
		if jump.Jt, ok = layoutBranch(prog, pc, int(b.jt.offset), &b.longJT, &extra); !ok {
			fits = false
		}
		if jump.Jf, ok = layoutBranch(prog, pc, int(b.jf.offset), &b.longJF, &extra); !ok {
			fits = false
		}
		prog[pc] = jump
	}
	return prog, fits
}

// layoutBranch computes one branch offset of the jump at pc to target. A branch
// beyond 255 goes through a "ja" placed after the jump; when the block has
// no room for it yet, it marks it (long) and reports that layout must
// start again.
func layoutBranch(prog Program, pc, target int, long *bool, extra *int) (uint8, bool) {
	off := target - pc - 1
	if off < 256 {
		return uint8(off), true
	}
	if !*long {
		*long = true
		return 0, false
	}
	jt := uint8(*extra)
	*extra++
	prog[pc+*extra] = Instruction{Op: ClassJmp | JmpJa, K: uint32(off - *extra)}
	return jt, true
}

// resolveLocalJumps fills the offsets of conditional jumps inside a block
// from the labels of their targets.
func resolveLocalJumps(code Program, stmts []statement) {
	var at map[int32]int
	for i, s := range stmts {
		if s.jt == 0 && s.jf == 0 {
			continue
		}
		if at == nil {
			at = make(map[int32]int)
			for j, t := range stmts {
				if t.label != 0 {
					at[t.label] = j
				}
			}
		}
		code[i].Jt = uint8(at[s.jt] - i - 1)
		code[i].Jf = uint8(at[s.jf] - i - 1)
	}
}
