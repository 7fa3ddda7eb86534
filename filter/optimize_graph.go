package filter

// The optimizer works on its own copy of the graph, shaped like libpcap's
// optimizer state: every block carries its two out-edges as objects (the
// edge, not the block, holds the successor), per-pass value numbers and
// use-def sets, and a fixed id given once in depth-first order. Passes
// depend on these ids and on the order blocks are visited, because
// libpcap's passes rewrite the graph while they walk it; keeping the same
// order is what makes the output identical to tcpdump's.

// Atoms are what a statement can use or define: scratch slots 0..15, A and X.
const (
	atomA  = MemWords
	atomX  = MemWords + 1
	nAtoms = MemWords + 2
	atomAX = nAtoms // both A and X
)

// atomset has one bit per atom.
type atomset uint32

func (s atomset) has(atom int) bool { return s&(1<<atom) != 0 }

// opNop marks a deleted statement; deleted statements stay in place until
// the graph is converted back, as libpcap's NOPs do, because some rewrites
// look at the position they held.
const opNop int32 = -1

type ostmt struct {
	code int32 // opcode, or opNop
	k    uint32
}

// oedge is one out-edge of a block, its source (pred gives it from the
// id, sparing a pointer per edge).
type oedge struct {
	id   int32
	code int32 // the jump's opcode; negated on the false edge
	succ *oblock
	next *oedge // next edge into the same successor
}

type oblock struct {
	id, level int32
	stmts     []ostmt
	s         ostmt // the jump, or the return
	et, ef    oedge // true and false edges; et.succ is nil for a return
	orig      *block

	val           [nAtoms]uint32 // value number of each atom on exit
	oval          uint32         // value number of the jump's operand
	inUse, outUse atomset
	inEdges       *oedge
}

func (b *oblock) jt() *oblock { return b.et.succ }
func (b *oblock) jf() *oblock { return b.ef.succ }

func (b *oblock) isLeaf() bool { return b.et.succ == nil }

// newOptGraph copies the graph under root, numbering blocks in preorder,
// true branch first (libpcap's number_blks_r). Edge ids are the block id
// for true edges and the block count plus the block id for false edges.
// The blocks are indexed by id, the first being root's copy.
func newOptGraph(root *block) []oblock {
	if root == nil {
		return nil
	}
	// Two walks, so that blocks and statements are each one allocation of
	// the right size: the first marks and numbers, the second copies and
	// clears the marks.
	n, nstmts := int32(0), 0
	stack := walkPreorder(root, nil, func(b *block) bool {
		if b.mark {
			return false
		}
		b.mark, b.num = true, n
		n++
		nstmts += len(b.stmts)
		return true
	})
	blocks, stmts := make([]oblock, n), make([]ostmt, 0, nstmts)
	succ := func(b *block) *oblock {
		if b == nil {
			return nil
		}
		return &blocks[b.num]
	}
	walkPreorder(root, stack, func(b *block) bool {
		if !b.mark {
			return false
		}
		b.mark = false
		ob := &blocks[b.num]
		ob.id, ob.orig, ob.s = b.num, b, ostmt{code: int32(b.jump.op), k: b.jump.k}
		start := len(stmts)
		for _, s := range b.stmts {
			stmts = append(stmts, ostmt{code: int32(s.op), k: s.k})
		}
		ob.stmts = stmts[start:len(stmts):len(stmts)]
		ob.et.succ, ob.ef.succ = succ(b.jt), succ(b.jf)
		ob.et.id, ob.ef.id = b.num, n+b.num
		return true
	})
	return blocks
}

// walkPreorder calls visit on the blocks under root in preorder, true
// branch first, descending below those for which it returns true. It
// uses an explicit stack, not recursion: a chain of thousands of blocks
// would grow the goroutine's stack, copying it at every doubling. It
// returns the stack for reuse.
func walkPreorder(root *block, stack []*block, visit func(b *block) bool) []*block {
	stack = append(stack[:0], root)
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !visit(b) {
			continue
		}
		// The false branch waits under the true one.
		for _, next := range [2]*block{b.jf, b.jt} {
			if next != nil {
				stack = append(stack, next)
			}
		}
	}
	return stack
}

// edge returns the edge with the given id.
func edge(blocks []oblock, id int32) *oedge {
	if n := int32(len(blocks)); id >= n {
		return &blocks[id-n].ef
	}
	return &blocks[id].et
}

// pred returns the source of the edge with the given id.
func pred(blocks []oblock, id int32) *oblock {
	if n := int32(len(blocks)); id >= n {
		return &blocks[id-n]
	}
	return &blocks[id]
}

// pred returns the source of e.
func (o *optimizer) pred(e *oedge) *oblock { return pred(o.blocks, e.id) }

// toIR writes the optimized graph back into the original blocks, dropping
// deleted statements, and returns the new root.
func toIR(root *oblock, nBlocks int) *block {
	seen := make([]bool, nBlocks)
	var write func(b *oblock)
	write = func(b *oblock) {
		if b == nil || seen[b.id] {
			return
		}
		seen[b.id] = true
		ir := b.orig
		ir.stmts = ir.stmts[:0]
		for _, s := range b.stmts {
			if s.code != opNop {
				ir.stmts = append(ir.stmts, statement{op: uint16(s.code), k: s.k})
			}
		}
		ir.jump = statement{op: uint16(b.s.code), k: b.s.k}
		ir.jt, ir.jf = nil, nil
		if !b.isLeaf() {
			write(b.jt())
			write(b.jf())
			ir.jt, ir.jf = b.jt().orig, b.jf().orig
		}
	}
	write(root)
	return root.orig
}

// levelList lists blocks by level: level l is flat[start[l]:start[l+1]].
type levelList struct {
	flat  []*oblock
	start []int32
}

// len returns the number of levels.
func (ls levelList) len() int { return len(ls.start) - 1 }

// at returns the blocks of level l.
func (ls levelList) at(l int) []*oblock { return ls.flat[ls.start[l]:ls.start[l+1]] }

// levelBuf holds the level lists of a pass, reused from pass to pass.
type levelBuf struct {
	seen  []uint32 // pass stamp of each visited block
	stamp uint32
	post  []*oblock // post-order walk
	flat  []*oblock // blocks grouped by level
	start []int32
}

// findLevels assigns every block reachable from root its level (0 for
// returns, one more than its deeper child otherwise) and lists the blocks
// of each level in the order libpcap's find_levels links them: the reverse
// of a post-order walk that takes the true branch first.
func findLevels(root *oblock, nBlocks int, buf *levelBuf) levelList {
	if len(buf.seen) < nBlocks {
		// Sized once: the graph never gains blocks.
		buf.seen = make([]uint32, nBlocks)
		buf.post = make([]*oblock, 0, nBlocks)
		buf.flat = make([]*oblock, nBlocks)
	}
	buf.stamp++
	buf.post = buf.post[:0]
	top := int32(0)
	var visit func(b *oblock)
	visit = func(b *oblock) {
		if buf.seen[b.id] == buf.stamp {
			return
		}
		buf.seen[b.id] = buf.stamp
		level := int32(0)
		if !b.isLeaf() {
			visit(b.jt())
			visit(b.jf())
			level = max(b.jt().level, b.jf().level) + 1
		}
		b.level = level
		top = max(top, level)
		buf.post = append(buf.post, b)
	}
	visit(root)
	// A counting sort by level: start[l] first counts the blocks up to
	// level l, the end of level l; filling each level from its end, in
	// post order, lists it reversed and leaves start[l] at its start.
	start := resize(buf.start, int(top)+2)
	clear(start)
	for _, b := range buf.post {
		start[b.level]++
	}
	for l := 1; l <= int(top); l++ {
		start[l] += start[l-1]
	}
	for _, b := range buf.post {
		start[b.level]--
		buf.flat[start[b.level]] = b
	}
	start[top+1] = int32(len(buf.post))
	buf.start = start
	return levelList{buf.flat, start}
}

// findInEdges links every edge of the listed blocks into its successor's
// in-edge list, newest first, as libpcap's find_inedges: from the highest
// level down, true edge before false edge. The level lists may be stale
// (computed before edges moved), and so may the result, on purpose.
func findInEdges(blocks []oblock, levels levelList) {
	for i := range blocks {
		blocks[i].inEdges = nil
	}
	for level := levels.len() - 1; level > 0; level-- {
		for _, b := range levels.at(level) {
			linkInEdge(&b.et, b.jt())
			linkInEdge(&b.ef, b.jf())
		}
	}
}

func linkInEdge(e *oedge, child *oblock) {
	e.next = child.inEdges
	child.inEdges = e
}
