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

	tinBuf, toutBuf []int32
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

func (t *domTree) in(v int32) bool { return t.depth[v] >= 0 }

// add puts v in the tree under parent (-1 for a root). Parents must be
// added before their children.
func (t *domTree) add(v, parent int32) {
	t.parent[v] = parent
	if parent < 0 {
		t.depth[v], t.jump[v] = 0, v
		return
	}
	t.depth[v] = t.depth[parent] + 1
	j := t.jump[parent]
	if jj := t.jump[j]; t.depth[parent]-t.depth[j] == t.depth[j]-t.depth[jj] {
		t.jump[v] = jj
	} else {
		t.jump[v] = parent
	}
}

// ancestor returns the ancestor of v at depth d (d <= depth of v).
func (t *domTree) ancestor(v, d int32) int32 {
	for t.depth[v] > d {
		if j := t.jump[v]; t.depth[j] >= d {
			v = j
		} else {
			v = t.parent[v]
		}
	}
	return v
}

// lca returns the nearest common ancestor of a and b, or -1 when they are
// in different trees (or one is -1).
func (t *domTree) lca(a, b int32) int32 {
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
		if ja, jb := t.jump[a], t.jump[b]; ja != jb && ja != a {
			a, b = ja, jb
			continue
		}
		a, b = t.parent[a], t.parent[b]
		if a < 0 || b < 0 {
			return -1 // two roots
		}
	}
	return a
}

// isAncestor tells whether a is b or one of its ancestors.
func (t *domTree) isAncestor(a, b int32) bool {
	if !t.in(a) || !t.in(b) {
		return false
	}
	if t.tin != nil {
		return t.tin[a] <= t.tin[b] && t.tin[b] < t.tout[a]
	}
	return t.depth[a] <= t.depth[b] && t.ancestor(b, t.depth[a]) == a
}

// number gives every node its preorder interval, so that ancestor
// queries cost O(1) once the tree is complete. The walk goes down child
// lists and back up parents, so it needs no stack.
func (t *domTree) number(tmp *scratch) {
	n := len(t.depth)
	buf := tmp.take(2 * n)
	first, next := buf[:n], buf[n:]
	for i := range first {
		first[i], next[i] = -1, -1
	}
	for v := int32(n - 1); v >= 0; v-- {
		if p := t.parent[v]; t.in(v) && p >= 0 {
			next[v], first[p] = first[p], v
		}
	}
	t.tinBuf, t.toutBuf = fill(t.tinBuf, n, -1), fill(t.toutBuf, n, -1)
	t.tin, t.tout = t.tinBuf, t.toutBuf
	clock := int32(0)
	for root := range int32(n) {
		if !t.in(root) || t.parent[root] >= 0 {
			continue
		}
		for v := root; ; v = next[v] {
			t.tin[v] = clock
			clock++
			for first[v] >= 0 {
				v = first[v]
				t.tin[v] = clock
				clock++
			}
			// Leave v, and its ancestors up to one with a next sibling.
			for t.tout[v] = clock; v != root && next[v] < 0; t.tout[v] = clock {
				v = t.parent[v]
			}
			if v == root {
				break
			}
		}
	}
}

// findDominators builds the block dominator tree of the graph as it is at
// the start of a pass: a block's immediate dominator is the nearest common
// dominator of its predecessors, which the level order visits first.
func findDominators(t *domTree, tmp *scratch, root *oblock, levels levelList, nBlocks int) {
	t.reset(nBlocks)
	idom := tmp.take(nBlocks)
	for i := range idom {
		idom[i] = -2 // no predecessor seen yet
	}
	for level := levels.len() - 1; level >= 0; level-- {
		for _, b := range levels.at(level) {
			if b == root {
				t.add(b.id, -1)
			} else {
				t.add(b.id, idom[b.id])
			}
			if b.isLeaf() {
				continue
			}
			for _, c := range [2]*oblock{b.jt(), b.jf()} {
				if idom[c.id] == -2 {
					idom[c.id] = b.id
				} else {
					idom[c.id] = t.lca(idom[c.id], b.id)
				}
			}
		}
	}
	t.number(tmp)
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
func findEdgeDominators(t *domTree, tmp *scratch, root *oblock, levels levelList, nBlocks int) {
	t.reset(2 * nBlocks)
	parent := tmp.take(nBlocks)
	for i := range parent {
		parent[i] = -2
	}
	for level := levels.len() - 1; level > 0; level-- {
		for _, b := range levels.at(level) {
			p := parent[b.id]
			if b == root {
				p = -1
			}
			t.add(b.et.id, p)
			t.add(b.ef.id, p)
			for _, e := range [2]*oedge{&b.et, &b.ef} {
				c := e.succ
				if parent[c.id] == -2 {
					parent[c.id] = e.id
				} else {
					parent[c.id] = t.lca(parent[c.id], e.id)
				}
			}
		}
	}
	t.number(tmp)
}
