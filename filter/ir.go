package filter

// The IR is a control-flow graph of blocks, built the way libpcap's
// gencode builds it: every block holds straight-line statements and ends in
// one conditional jump (or a return). Boolean expressions under
// construction are fragments whose unresolved true and false exits are
// patched as "and", "or" and "not" combine them.

// statement is one straight-line instruction inside a block.
type statement struct {
	op uint16
	k  uint32
}

// block is a node of the control-flow graph.
type block struct {
	stmts  []statement
	jump   statement // conditional jump (class JMP) or return (class RET)
	jt, jf *block    // successors when the jump's test holds / fails

	// Assembly state.
	mark           bool
	offset         int // index of the block's first instruction
	longJT, longJF bool
}

func (b *block) isReturn() bool { return Class(b.jump.op) == ClassRet }

// exit is an unresolved edge: the true or false successor of b.
type exit struct {
	b      *block
	onTrue bool
}

// frag is a boolean expression under construction: control enters at head
// and leaves through the exits, which later code patches.
type frag struct {
	head       *block
	trueExits  []exit
	falseExits []exit
}

// leaf wraps a single block whose two edges are both open.
func leaf(b *block) frag {
	return frag{head: b, trueExits: []exit{{b, true}}, falseExits: []exit{{b, false}}}
}

func patch(exits []exit, target *block) {
	for _, e := range exits {
		if e.onTrue {
			e.b.jt = target
		} else {
			e.b.jf = target
		}
	}
}

// and is libpcap's gen_and: x's true exits flow into y.
func and(x, y frag) frag {
	patch(x.trueExits, y.head)
	return frag{head: x.head, trueExits: y.trueExits, falseExits: mergeExits(y.falseExits, x.falseExits)}
}

// or is libpcap's gen_or: x's false exits flow into y.
func or(x, y frag) frag {
	patch(x.falseExits, y.head)
	return frag{head: x.head, trueExits: mergeExits(y.trueExits, x.trueExits), falseExits: y.falseExits}
}

// mergeExits joins two exit lists, the shorter onto the longer, so that
// long chains of "or" or "and" build in linear time; the order of exits
// does not matter, as they are all patched to one target.
func mergeExits(a, b []exit) []exit {
	if len(a) < len(b) {
		a, b = b, a
	}
	return append(a, b...)
}

// not is libpcap's gen_not: the exits swap meaning.
func not(x frag) frag {
	return frag{head: x.head, trueExits: x.falseExits, falseExits: x.trueExits}
}

func retBlock(v uint32) *block {
	return &block{jump: statement{op: ClassRet | SrcK, k: v}}
}

// finish closes a fragment into a graph: true exits return snaplen, false
// exits return 0, as libpcap's finish_parse.
func finish(f frag, snaplen uint32) *block {
	patch(f.trueExits, retBlock(snaplen))
	patch(f.falseExits, retBlock(0))
	return f.head
}
