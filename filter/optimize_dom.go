package filter

// domTree is a dominator tree over dense ids (blocks, or edges). Each
// node keeps its parent and one jump pointer to a farther ancestor (the
// skew-binary scheme), so that ancestor and nearest-common-ancestor
// queries cost O(log n) with O(1) memory per node, where libpcap's n x n
// bit sets cost O(n) per block and O(n²) in all.
type domTree struct {
	depth     []int32 // -1: not in the tree
	parent    []int32 // -1 for a root
	jump      []int32 // an ancestor; the root for a root
	tin, tout []int32 // preorder interval of each node, once numbered

	tinBuf, toutBuf, first, next, scratch []int32
}

// reset empties the tree for n nodes, keeping its memory.
func (t *domTree) reset(n int) {
	t.depth = resize(t.depth, n)
	t.parent = resize(t.parent, n)
	t.jump = resize(t.jump, n)
	for i := range t.depth {
		t.depth[i] = -1
	}
	t.tin, t.tout = nil, nil
}

func (t *domTree) in(v int) bool { return t.depth[v] >= 0 }

// add puts v in the tree under parent (-1 for a root). Parents must be
// added before their children.
func (t *domTree) add(v, parent int) {
	t.parent[v] = int32(parent)
	if parent < 0 {
		t.depth[v], t.jump[v] = 0, int32(v)
		return
	}
	t.depth[v] = t.depth[parent] + 1
	j := t.jump[parent]
	if jj := t.jump[j]; t.depth[parent]-t.depth[j] == t.depth[j]-t.depth[jj] {
		t.jump[v] = jj
	} else {
		t.jump[v] = int32(parent)
	}
}

// ancestor returns the ancestor of v at depth d (d <= depth of v).
func (t *domTree) ancestor(v int, d int32) int {
	for t.depth[v] > d {
		if j := t.jump[v]; t.depth[j] >= d {
			v = int(j)
		} else {
			v = int(t.parent[v])
		}
	}
	return v
}

// lca returns the nearest common ancestor of a and b, or -1 when they are
// in different trees (or one is -1).
func (t *domTree) lca(a, b int) int {
	if a < 0 || b < 0 {
		return -1
	}
	if t.depth[a] > t.depth[b] {
		a = t.ancestor(a, t.depth[b])
	} else {
		b = t.ancestor(b, t.depth[a])
	}
	// At equal depths the jump pointers have equal lengths.
	for a != b {
		if ja, jb := t.jump[a], t.jump[b]; ja != jb && int(ja) != a {
			a, b = int(ja), int(jb)
			continue
		}
		a, b = int(t.parent[a]), int(t.parent[b])
		if a < 0 || b < 0 {
			return -1 // two roots
		}
	}
	return a
}

// isAncestor tells whether a is b or one of its ancestors.
func (t *domTree) isAncestor(a, b int) bool {
	if !t.in(a) || !t.in(b) {
		return false
	}
	if t.tin != nil {
		return t.tin[a] <= t.tin[b] && t.tin[b] < t.tout[a]
	}
	return t.depth[a] <= t.depth[b] && t.ancestor(b, t.depth[a]) == a
}

// number gives every node its preorder interval, so that ancestor
// queries cost O(1) once the tree is complete.
func (t *domTree) number() {
	n := len(t.depth)
	t.first, t.next = resize(t.first, n), resize(t.next, n)
	first, next := t.first, t.next
	for i := range first {
		first[i], next[i] = -1, -1
	}
	var stack []int32
	for v := n - 1; v >= 0; v-- {
		if !t.in(v) {
			continue
		}
		if p := t.parent[v]; p >= 0 {
			next[v], first[p] = first[p], int32(v)
		} else {
			stack = append(stack, int32(v))
		}
	}
	t.tinBuf, t.toutBuf = resize(t.tinBuf, n), resize(t.toutBuf, n)
	t.tin, t.tout = t.tinBuf, t.toutBuf
	for i := range t.tin {
		t.tin[i] = -1
	}
	clock := int32(0)
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		if t.tin[v] < 0 {
			t.tin[v] = clock
			clock++
			for c := first[v]; c >= 0; c = next[c] {
				stack = append(stack, c)
			}
			continue
		}
		stack = stack[:len(stack)-1]
		t.tout[v] = clock
	}
}

// findDominators builds the block dominator tree of the graph as it is at
// the start of a pass: a block's immediate dominator is the nearest common
// dominator of its predecessors, which the level order visits first.
func findDominators(t *domTree, root *oblock, levels [][]*oblock, nBlocks int) {
	t.reset(nBlocks)
	t.scratch = resize(t.scratch, nBlocks)
	idom := t.scratch
	for i := range idom {
		idom[i] = -2 // no predecessor seen yet
	}
	for level := len(levels) - 1; level >= 0; level-- {
		for _, b := range levels[level] {
			if b == root {
				t.add(b.id, -1)
			} else {
				t.add(b.id, int(idom[b.id]))
			}
			if b.isLeaf() {
				continue
			}
			for _, c := range [2]*oblock{b.jt(), b.jf()} {
				if idom[c.id] == -2 {
					idom[c.id] = int32(b.id)
				} else {
					idom[c.id] = int32(t.lca(int(idom[c.id]), b.id))
				}
			}
		}
	}
	t.number()
}

// dominates answers libpcap's SET_MEMBER(d->dom, b->id) with the sets of
// the pass start: a block that was not reachable then has every bit set.
func (t *domTree) dominates(b, d *oblock) bool {
	if !t.in(d.id) {
		return true
	}
	return t.isAncestor(b.id, d.id)
}

// findEdgeDominators builds the edge dominator tree: the edges on every
// path from the root to an edge are the edge itself and the edges common
// to all paths into its source block, i.e. the ancestors of the nearest
// common ancestor of the block's in-edges.
func findEdgeDominators(t *domTree, root *oblock, levels [][]*oblock, nBlocks int) {
	t.reset(2 * nBlocks)
	t.scratch = resize(t.scratch, nBlocks)
	parent := t.scratch
	for i := range parent {
		parent[i] = -2
	}
	for level := len(levels) - 1; level > 0; level-- {
		for _, b := range levels[level] {
			p := int(parent[b.id])
			if b == root {
				p = -1
			}
			t.add(b.et.id, p)
			t.add(b.ef.id, p)
			for _, e := range [2]*oedge{&b.et, &b.ef} {
				c := e.succ
				if parent[c.id] == -2 {
					parent[c.id] = int32(e.id)
				} else {
					parent[c.id] = int32(t.lca(int(parent[c.id]), e.id))
				}
			}
		}
	}
}
