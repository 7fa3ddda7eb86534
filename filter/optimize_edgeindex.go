package filter

import "sort"

// decidingIndex finds, for an edge, the dominating edges that decide the
// test its successor makes, without walking every dominator: libpcap
// scans the edge's whole dominator set, which makes each pass quadratic
// on long chains. An edge decides a test only when its source tested the
// same value (value number of A) with the same jump, so edges are grouped
// by what they tested, and within a group the dominators of an edge are a
// chain in the edge dominator tree, found from the tree's preorder
// intervals.
type decidingIndex struct {
	tin, tout []int32 // preorder interval of each edge in the dominator tree
	order     []int32 // edges in preorder
	groups    map[edgeTest][]int32
	// Nearest dominating edge of the same group, or -1; an edge is in one
	// plain group [0] and may be in one anyOperand group [1].
	groupUp [2][]int32
	// Lowest id among an edge and its dominators in the group; in the
	// anyOperand groups also the lowest whose operand differs from that
	// one's, since those with the lowest's operand decide differently.
	best, best2 [2][]int32 // [0] plain groups, [1] anyOperand groups
}

// edgeTest is what taking an edge tells: the source's jump, the value it
// tested, its operand, and which way it went. Equality tests that held
// also form a group per value alone (anyOperand), because they decide
// every other equality test of that value.
type edgeTest struct {
	code       int32
	aval, oval uint32
	sense      bool
	anyOperand bool
}

// build indexes the edges of the blocks listed in levels, from the edge
// dominator tree t and the value numbers of the current pass.
func (x *decidingIndex) build(t *domTree, levels [][]*oblock, all []*oedge) {
	nEdges := len(all)
	x.tin = resize(x.tin, nEdges)
	x.tout = resize(x.tout, nEdges)
	for i := range x.tin {
		x.tin[i], x.tout[i] = -1, -1
	}
	for k := range x.best {
		x.groupUp[k] = resize(x.groupUp[k], nEdges)
		for i := range x.groupUp[k] {
			x.groupUp[k][i] = -1
		}
		x.best[k] = resize(x.best[k], nEdges)
		x.best2[k] = resize(x.best2[k], nEdges)
	}
	// Children lists, then an iterative preorder walk.
	first := make([]int32, nEdges)
	next := make([]int32, nEdges)
	for i := range first {
		first[i], next[i] = -1, -1
	}
	var roots []int32
	for _, l := range levels {
		for _, b := range l {
			if b.isLeaf() {
				continue
			}
			for _, e := range [2]*oedge{&b.et, &b.ef} {
				if p := t.up[0][e.id]; p < 0 {
					roots = append(roots, int32(e.id))
				} else {
					next[e.id] = first[p]
					first[p] = int32(e.id)
				}
			}
		}
	}
	clock := int32(0)
	var stack []int32
	x.order = x.order[:0]
	for _, r := range roots {
		stack = append(stack[:0], r)
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			if x.tin[v] < 0 {
				x.tin[v] = clock
				clock++
				x.order = append(x.order, v)
				for c := first[v]; c >= 0; c = next[c] {
					stack = append(stack, c)
				}
				continue
			}
			stack = stack[:len(stack)-1]
			if x.tout[v] < 0 {
				x.tout[v] = clock
			}
		}
	}
	if x.groups == nil {
		x.groups = map[edgeTest][]int32{}
	}
	clear(x.groups)
	for _, id := range x.order { // in preorder, so groups come sorted
		for _, g := range testsOf(all[id]) {
			x.groups[g] = append(x.groups[g], id)
		}
	}
	for g, members := range x.groups {
		k := 0
		if g.anyOperand {
			k = 1
		}
		best, best2, groupUp := x.best[k], x.best2[k], x.groupUp[k]
		for _, m := range members {
			if p := t.up[0][m]; p >= 0 {
				groupUp[m] = x.nearest(members, groupUp, p)
			}
			b1, b2 := m, int32(-1)
			if up := groupUp[m]; up >= 0 {
				u1, u2 := best[up], best2[up]
				oval := func(id int32) uint32 { return all[id].pred.oval }
				// Merge {m} with the ancestors' two: keep the lowest, then
				// the lowest with another operand.
				cands := [3]int32{m, u1, u2}
				b1 = -1
				for _, c := range cands {
					if c >= 0 && (b1 < 0 || c < b1) {
						b1 = c
					}
				}
				for _, c := range cands {
					if c >= 0 && oval(c) != oval(b1) && (b2 < 0 || c < b2) {
						b2 = c
					}
				}
			}
			best[m], best2[m] = b1, b2
		}
		x.groups[g] = members
	}
}

func resize(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// testsOf lists the groups an edge belongs to.
func testsOf(e *oedge) []edgeTest {
	code, sense := e.code, true
	if code < 0 {
		code, sense = -code, false
	}
	g := []edgeTest{{code: code, aval: e.pred.val[atomA], oval: e.pred.oval, sense: sense}}
	if sense && code == opJeqKC {
		g = append(g, edgeTest{code: code, aval: e.pred.val[atomA], sense: true, anyOperand: true})
	}
	return g
}

// nearest returns the member of a group (sorted by preorder) that is v or
// its nearest ancestor, or -1. The member entered last before v is either
// v's ancestor or below a common ancestor; climbing the group from it
// reaches the answer, and group chains are short because libpcap's
// threading removes repeated tests.
func (x *decidingIndex) nearest(members, groupUp []int32, v int32) int32 {
	i := sort.Search(len(members), func(i int) bool { return x.tin[members[i]] > x.tin[v] }) - 1
	if i < 0 {
		return -1
	}
	s := members[i]
	for s >= 0 && !(x.tin[s] <= x.tin[v] && x.tin[v] < x.tout[s]) {
		s = groupUp[s]
	}
	return s
}

// firstTarget returns where ep should go instead of its successor's test,
// as the lowest-numbered dominating edge that decides that test and
// whose move feeds the same values on: nil if there is none. Within a
// group every edge decides the test the same way, so only the lowest
// counts.
func (x *decidingIndex) firstTarget(ep *oedge, edges []*oedge) *oblock {
	child := ep.succ
	if child.isLeaf() {
		return nil
	}
	v := int32(ep.id)
	bestID := int32(-1)
	var best *oblock
	consider := func(id int32, target *oblock) {
		if id >= 0 && (bestID < 0 || id < bestID) && !useConflict(ep.pred, target) {
			bestID, best = id, target
		}
	}
	lowest := func(g edgeTest) (int32, int32) {
		members := x.groups[g]
		if len(members) == 0 {
			return -1, -1
		}
		k := 0
		if g.anyOperand {
			k = 1
		}
		s := x.nearest(members, x.groupUp[k], v)
		if s < 0 {
			return -1, -1
		}
		return x.best[k][s], x.best2[k][s]
	}
	g := edgeTest{code: child.s.code, aval: child.val[atomA], oval: child.oval, sense: true}
	id, _ := lowest(g)
	consider(id, child.jt())
	g.sense = false
	id, _ = lowest(g)
	consider(id, child.jf())
	if child.s.code == opJeqKC {
		// A held equality with another constant decides "false".
		id1, id2 := lowest(edgeTest{code: child.s.code, aval: child.val[atomA], sense: true, anyOperand: true})
		if id1 >= 0 && edges[id1].pred.oval == child.oval {
			id1 = id2
		}
		consider(id1, child.jf())
	}
	return best
}
