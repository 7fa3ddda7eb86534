package filter

// The IR is a control-flow graph of blocks, built the way libpcap's
// gencode builds it: every block holds straight-line statements and ends in
// one conditional jump (or a return). Boolean expressions under
// construction are fragments whose unresolved true and false exits are
// patched as "and", "or" and "not" combine them.

// statement is one instruction inside a block. Blocks are straight-line
// code except for the few conditional jumps libpcap itself places inside a
// block (kernel VLAN metadata, Geneve offsets, protochain, 802.11 header
// lengths): such a jump names its targets, statements of the same block,
// by label. An unconditional "ja" inside a block carries its offset in k.
type statement struct {
	op     uint16
	k      uint32
	label  int32 // non-zero: a jump inside the block may target this statement
	jt, jf int32 // labels of a conditional jump's targets
}

// block is a node of the control-flow graph. Long filters make thousands:
// the field order keeps it at 80 bytes.
type block struct {
	stmts  []statement
	jump   statement // conditional jump (class JMP) or return (class RET)
	num    int32     // preorder number, while the optimizer copies the graph
	jt, jf *block    // successors when the jump's test holds / fails

	// Assembly state.
	offset         int32 // index of the block's first instruction
	end            int32 // while planning: instructions from the block's start to the program's end
	mark           bool
	longJT, longJF bool

	// While an edge is an open exit of a fragment, jt or jf holds the
	// next exit's block and these tell which of its edges that is.
	jtNextOnTrue, jfNextOnTrue bool
}

func (b *block) isReturn() bool { return Class(b.jump.op) == ClassRet }

// exit is an unresolved edge: the true or false successor of b.
type exit struct {
	b      *block
	onTrue bool
}

// exits is a list of unresolved edges, linked through the open edges
// themselves, so that joining two lists costs nothing and allocates
// nothing. An empty list has a nil first.b.
type exits struct{ first, last exit }

// next returns the exit linked after e, or one with a nil block after
// the last.
func (e exit) next() exit {
	if e.onTrue {
		return exit{e.b.jt, e.b.jtNextOnTrue}
	}
	return exit{e.b.jf, e.b.jfNextOnTrue}
}

// link makes next follow e.
func (e exit) link(next exit) {
	if e.onTrue {
		e.b.jt, e.b.jtNextOnTrue = next.b, next.onTrue
	} else {
		e.b.jf, e.b.jfNextOnTrue = next.b, next.onTrue
	}
}

// frag is a boolean expression under construction: control enters at head
// and leaves through the exits, which later code patches.
type frag struct {
	head       *block
	trueExits  exits
	falseExits exits
}

// leaf wraps a single block whose two edges are both open.
func leaf(b *block) frag {
	t, f := exit{b, true}, exit{b, false}
	b.jt, b.jf = nil, nil // each ends its list
	return frag{head: b, trueExits: exits{t, t}, falseExits: exits{f, f}}
}

// patch points every edge of l to target.
func patch(l exits, target *block) {
	for e := l.first; e.b != nil; {
		next := e.next()
		e.link(exit{b: target})
		e = next
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

// mergeExits joins two exit lists; the order of exits does not matter,
// and the fragments they came from are not used again.
func mergeExits(a, b exits) exits {
	switch {
	case a.first.b == nil:
		return b
	case b.first.b == nil:
		return a
	}
	a.last.link(b.first)
	return exits{a.first, b.last}
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
