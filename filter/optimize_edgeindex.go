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
//
// There are two kinds of groups: plain ones, by jump, value, operand and
// direction; and, for equality tests that held, one per value alone
// (anyOperand), since "A == k" decides every other "A == k2" as false.
type decidingIndex struct {
	tin, tout []int32 // preorder interval of each edge in the dominator tree
	order     []int32 // edges in preorder
	ids       map[edgeTest]int32
	// Per kind of group ([0] plain, [1] anyOperand): each edge's group
	// (-1: none), the groups' members in preorder (start[g] to start[g+1]
	// in members), the nearest dominating edge of the same group, the
	// lowest id among an edge and those dominators, and the lowest whose
	// operand differs from that one's.
	group, start, members, groupUp [2][]int32
	best, best2                    [2][]int32

	first, next, stack []int32
}

// edgeTest is what taking an edge tells: the source's jump, the value it
// tested, its operand, and which way it went.
type edgeTest struct {
	code       int32
	aval, oval uint32
	sense      bool
	anyOperand bool
}

// build indexes the edges of the blocks listed in levels, from the edge
// dominator tree t and the value numbers of the current pass.
func (x *decidingIndex) build(t *domTree, levels [][]*oblock, all []*oedge) {
	x.preorder(t, levels, len(all))
	if x.ids == nil {
		x.ids = map[edgeTest]int32{}
	}
	clear(x.ids)
	for k := range x.group {
		x.group[k] = fill(x.group[k], len(all), -1)
		x.start[k] = x.start[k][:0]
	}
	for _, id := range x.order {
		e := all[id]
		code, sense := e.code, true
		if code < 0 {
			code, sense = -code, false
		}
		x.group[0][id] = x.groupID(0, edgeTest{code: code, aval: e.pred.val[atomA], oval: e.pred.oval, sense: sense})
		if sense && code == opJeqKC {
			x.group[1][id] = x.groupID(1, edgeTest{code: code, aval: e.pred.val[atomA], sense: true, anyOperand: true})
		}
	}
	for k := range x.group {
		x.fillGroups(k, t, all)
	}
}

func fill(s []int32, n int, v int32) []int32 {
	s = resize(s, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func resize(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// groupID numbers groups as they are met; start temporarily counts their
// members.
func (x *decidingIndex) groupID(k int, g edgeTest) int32 {
	id, ok := x.ids[g]
	if !ok {
		id = int32(len(x.start[k]))
		x.ids[g] = id
		x.start[k] = append(x.start[k], 0)
	}
	x.start[k][id]++
	return id
}

// preorder numbers the edges of the dominator tree in preorder.
func (x *decidingIndex) preorder(t *domTree, levels [][]*oblock, nEdges int) {
	x.tin = fill(x.tin, nEdges, -1)
	x.tout = fill(x.tout, nEdges, -1)
	x.first = fill(x.first, nEdges, -1)
	x.next = fill(x.next, nEdges, -1)
	x.stack = x.stack[:0]
	for l := len(levels) - 1; l > 0; l-- {
		for i := len(levels[l]) - 1; i >= 0; i-- {
			b := levels[l][i]
			for _, e := range [2]*oedge{&b.ef, &b.et} {
				if p := t.parent[e.id]; p < 0 {
					x.stack = append(x.stack, int32(e.id))
				} else {
					x.next[e.id], x.first[p] = x.first[p], int32(e.id)
				}
			}
		}
	}
	x.order = x.order[:0]
	clock := int32(0)
	for len(x.stack) > 0 {
		v := x.stack[len(x.stack)-1]
		if x.tin[v] < 0 {
			x.tin[v] = clock
			clock++
			x.order = append(x.order, v)
			for c := x.first[v]; c >= 0; c = x.next[c] {
				x.stack = append(x.stack, c)
			}
			continue
		}
		x.stack = x.stack[:len(x.stack)-1]
		x.tout[v] = clock
	}
}

// fillGroups lays out the members of kind k's groups in preorder and
// computes their chains and lowest ids.
func (x *decidingIndex) fillGroups(k int, t *domTree, all []*oedge) {
	start := x.start[k]
	sum := int32(0)
	for g, n := range start {
		start[g] = sum
		sum += n
	}
	start = append(start, sum)
	x.start[k] = start
	members := resize(x.members[k], int(sum))
	x.members[k] = members
	pos := append([]int32(nil), start[:len(start)-1]...)
	group := x.group[k]
	for _, id := range x.order {
		if g := group[id]; g >= 0 {
			members[pos[g]] = id
			pos[g]++
		}
	}
	x.groupUp[k] = fill(x.groupUp[k], len(all), -1)
	x.best[k] = resize(x.best[k], len(all))
	x.best2[k] = resize(x.best2[k], len(all))
	groupUp, best, best2 := x.groupUp[k], x.best[k], x.best2[k]
	oval := func(id int32) uint32 { return all[id].pred.oval }
	for _, m := range members { // ancestors before descendants
		if p := t.parent[m]; p >= 0 {
			groupUp[m] = x.nearest(k, group[m], p)
		}
		b1, b2 := m, int32(-1)
		if up := groupUp[m]; up >= 0 {
			// Merge {m} with the ancestors' two: the lowest, then the
			// lowest with another operand.
			cands := [3]int32{m, best[up], best2[up]}
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
}

// nearest returns the member of group g (of kind k) that is v or its
// nearest ancestor, or -1. The member entered last before v is either
// v's ancestor or below a common ancestor; climbing the group from it
// reaches the answer, and group chains are short because libpcap's
// threading removes repeated tests.
func (x *decidingIndex) nearest(k int, g, v int32) int32 {
	members := x.members[k][x.start[k][g]:x.start[k][g+1]]
	i := sort.Search(len(members), func(i int) bool { return x.tin[members[i]] > x.tin[v] }) - 1
	if i < 0 {
		return -1
	}
	s := members[i]
	for s >= 0 && !(x.tin[s] <= x.tin[v] && x.tin[v] < x.tout[s]) {
		s = x.groupUp[k][s]
	}
	return s
}

// firstTarget returns where ep should go instead of its successor's test,
// as the lowest-numbered dominating edge that decides that test and
// whose move feeds the same values on: nil if there is none. The groups
// to look in are those of the successor's own edges, which record the
// same test; within a group every edge decides it the same way, so only
// the lowest counts.
func (x *decidingIndex) firstTarget(ep *oedge, edges []*oedge) *oblock {
	child := ep.succ
	if child.isLeaf() || x.tin[child.et.id] < 0 {
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
	lowest := func(k int, g int32) (int32, int32) {
		if g < 0 {
			return -1, -1
		}
		s := x.nearest(k, g, v)
		if s < 0 {
			return -1, -1
		}
		return x.best[k][s], x.best2[k][s]
	}
	id, _ := lowest(0, x.group[0][child.et.id])
	consider(id, child.jt())
	id, _ = lowest(0, x.group[0][child.ef.id])
	consider(id, child.jf())
	if g := x.group[1][child.et.id]; g >= 0 {
		// A held equality with another constant decides "false".
		id1, id2 := lowest(1, g)
		if id1 >= 0 && edges[id1].pred.oval == child.oval {
			id1 = id2
		}
		consider(id1, child.jf())
	}
	return best
}
