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

// oedge is one out-edge of a block.
type oedge struct {
	id   int
	code int32 // the jump's opcode; negated on the false edge
	pred *oblock
	succ *oblock
	next *oedge // next edge into the same successor
}

type oblock struct {
	id     int
	stmts  []ostmt
	s      ostmt // the jump, or the return
	et, ef oedge // true and false edges; et.succ is nil for a return
	level  int
	orig   *block

	val              [nAtoms]uint32 // value number of each atom on exit
	oval             uint32         // value number of the jump's operand
	def, kill, inUse atomset
	outUse           atomset
	inEdges          *oedge
}

func (b *oblock) jt() *oblock { return b.et.succ }
func (b *oblock) jf() *oblock { return b.ef.succ }

func (b *oblock) isLeaf() bool { return b.et.succ == nil }

// newOptGraph copies the graph under root, numbering blocks in preorder,
// true branch first (libpcap's number_blks_r). Edge ids are the block id
// for true edges and the block count plus the block id for false edges.
func newOptGraph(root *block) (*oblock, []*oblock, []*oedge) {
	if root == nil {
		return nil, nil, nil
	}
	// An explicit stack rather than recursion: a chain of thousands of
	// blocks would grow the goroutine's stack, copying it to fresh
	// memory at every doubling.
	index := map[*block]int{}
	var order []*block
	stack := []*block{root}
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := index[b]; ok {
			continue
		}
		index[b] = len(order)
		order = append(order, b)
		// The false branch waits under the true one: preorder, true first.
		for _, next := range [2]*block{b.jf, b.jt} {
			if next != nil {
				stack = append(stack, next)
			}
		}
	}
	// One allocation for all the blocks, and one for their statements.
	nstmts := 0
	for _, b := range order {
		nstmts += len(b.stmts)
	}
	slab, stmts := make([]oblock, len(order)), make([]ostmt, 0, nstmts)
	blocks := make([]*oblock, len(order))
	succ := func(b *block) *oblock {
		if b == nil {
			return nil
		}
		return &slab[index[b]]
	}
	for i, b := range order {
		ob := &slab[i]
		ob.id, ob.orig, ob.s = i, b, ostmt{code: int32(b.jump.op), k: b.jump.k}
		start := len(stmts)
		for _, s := range b.stmts {
			stmts = append(stmts, ostmt{code: int32(s.op), k: s.k})
		}
		ob.stmts = stmts[start:len(stmts):len(stmts)]
		ob.et.succ, ob.ef.succ = succ(b.jt), succ(b.jf)
		blocks[i] = ob
	}
	n := len(blocks)
	edges := make([]*oedge, 2*n)
	for i, b := range blocks {
		b.et.id, b.ef.id = i, n+i
		b.et.pred, b.ef.pred = b, b
		edges[i], edges[n+i] = &b.et, &b.ef
	}
	return blocks[0], blocks, edges
}

// toIR writes the optimized graph back into the original blocks, dropping
// deleted statements, and returns the new root.
func toIR(root *oblock) *block {
	seen := map[*oblock]bool{}
	var write func(b *oblock)
	write = func(b *oblock) {
		if b == nil || seen[b] {
			return
		}
		seen[b] = true
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

// levelBuf holds the level lists of a pass, reused from pass to pass.
type levelBuf struct {
	seen   []uint32 // pass stamp of each visited block
	stamp  uint32
	post   []*oblock // post-order walk
	flat   []*oblock // blocks grouped by level
	count  []int
	levels [][]*oblock
}

// findLevels assigns every block reachable from root its level (0 for
// returns, one more than its deeper child otherwise) and lists the blocks
// of each level in the order libpcap's find_levels links them: the reverse
// of a post-order walk that takes the true branch first.
func findLevels(root *oblock, nBlocks int, buf *levelBuf) [][]*oblock {
	if len(buf.seen) < nBlocks {
		buf.seen = make([]uint32, nBlocks)
	}
	buf.stamp++
	buf.post = buf.post[:0]
	top := 0
	var visit func(b *oblock)
	visit = func(b *oblock) {
		if buf.seen[b.id] == buf.stamp {
			return
		}
		buf.seen[b.id] = buf.stamp
		level := 0
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
	// A stable counting sort by level, then each level reversed.
	buf.count = append(buf.count[:0], make([]int, top+2)...)
	for _, b := range buf.post {
		buf.count[b.level+1]++
	}
	for l := 1; l < len(buf.count); l++ {
		buf.count[l] += buf.count[l-1]
	}
	if cap(buf.flat) < len(buf.post) {
		buf.flat = make([]*oblock, len(buf.post))
	}
	buf.flat = buf.flat[:len(buf.post)]
	buf.levels = buf.levels[:0]
	for l := 0; l <= top; l++ {
		buf.levels = append(buf.levels, buf.flat[buf.count[l]:buf.count[l]:buf.count[l+1]])
	}
	for _, b := range buf.post {
		buf.levels[b.level] = append(buf.levels[b.level], b)
	}
	for _, l := range buf.levels {
		for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
			l[i], l[j] = l[j], l[i]
		}
	}
	return buf.levels
}

// findInEdges links every edge of the listed blocks into its successor's
// in-edge list, newest first, as libpcap's find_inedges: from the highest
// level down, true edge before false edge. The level lists may be stale
// (computed before edges moved), and so may the result, on purpose.
func findInEdges(blocks []*oblock, levels [][]*oblock) {
	for _, b := range blocks {
		b.inEdges = nil
	}
	for level := len(levels) - 1; level > 0; level-- {
		for _, b := range levels[level] {
			linkInEdge(&b.et, b.jt())
			linkInEdge(&b.ef, b.jf())
		}
	}
}

func linkInEdge(e *oedge, child *oblock) {
	e.next = child.inEdges
	child.inEdges = e
}
