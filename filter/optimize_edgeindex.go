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
	tin, tout []int32 // preorder interval of each edge, the tree's own
	order     []int32 // edges in preorder
	// Per kind of group ([0] plain, [1] anyOperand): each edge's group
	// (-1: none) and the groups' members, group by group and in preorder
	// within one (start[g] to start[g+1] in members). By position in
	// members: the nearest dominating member of the same group, the
	// lowest id among a member and those dominators, and the lowest whose
	// operand differs from that one's.
	group, start, members, groupUp [2][]int32
	best, best2                    [2][]int32
}

// edgeTest is what taking an edge tells: the source's jump, negated for
// the false edge (the edge's code), the value it tested and its operand.
type edgeTest struct {
	code       int32
	aval, oval uint32
}

// testOf returns the test that groups edge id among kind k's groups, and
// whether the edge is in one.
func testOf(k int, blocks []oblock, id int32) (edgeTest, bool) {
	e, src := edge(blocks, id), pred(blocks, id)
	if k == 0 {
		return edgeTest{e.code, src.val[atomA], src.oval}, true
	}
	// A held equality, whatever its operand.
	return edgeTest{code: e.code, aval: src.val[atomA]}, e.code == opJeqKC
}

// hash mixes the fields, for a classTable.
func (t edgeTest) hash() uint32 {
	h := uint32(t.code)*0x9e3779b1 ^ t.aval*0x85ebca6b ^ t.oval*0xc2b2ae35
	return h ^ h>>15
}

// build indexes the edges in the numbered edge dominator tree t, from the
// value numbers of the current pass.
func (x *decidingIndex) build(t *domTree, tmp *scratch, blocks []oblock) {
	x.tin, x.tout = t.tin, t.tout
	n := 0
	for _, pos := range x.tin {
		if pos >= 0 {
			n++
		}
	}
	x.order = resize(x.order, n)
	for v, pos := range x.tin {
		if pos >= 0 {
			x.order[pos] = int32(v)
		}
	}
	for k := range x.group {
		x.groupEdges(k, tmp, blocks)
		x.fillGroups(k, t, blocks)
	}
}

// groupEdges numbers kind k's groups as they are met in preorder and
// lists their members, group by group and in preorder within one.
func (x *decidingIndex) groupEdges(k int, tmp *scratch, blocks []oblock) {
	test := func(id int32) (edgeTest, bool) { return testOf(k, blocks, id) }
	n := 0
	for _, id := range x.order {
		if _, ok := test(id); ok {
			n++
		}
	}
	group := fill(x.group[k], 2*len(blocks), -1)
	start := x.start[k][:0]
	if cap(start) < n+1 {
		start = make([]int32, 0, n+1)
	}
	reps := newClassTable(tmp.take(tableSize(n)))
	for _, id := range x.order {
		t, ok := test(id)
		if !ok {
			continue
		}
		i := reps.find(t.hash(), func(rep int32) bool { rt, _ := test(rep); return rt == t })
		if rep := reps[i]; rep >= 0 {
			group[id] = group[rep]
		} else {
			reps[i] = id
			group[id] = int32(len(start))
			start = append(start, 0)
		}
		start[group[id]]++ // a count until the members are placed
	}
	sum := int32(0)
	for g, c := range start {
		start[g] = sum
		sum += c
	}
	start = append(start, sum)
	members := resize(x.members[k], n)
	for _, id := range x.order {
		if g := group[id]; g >= 0 {
			members[start[g]] = id
			start[g]++
		}
	}
	// Placing moved each start to the next group's.
	copy(start[1:], start[:len(start)-1])
	start[0] = 0
	x.members[k], x.group[k], x.start[k] = members, group, start
}

// fillGroups computes the chains and lowest ids of kind k's members.
func (x *decidingIndex) fillGroups(k int, t *domTree, blocks []oblock) {
	members, group := x.members[k], x.group[k]
	n := len(members)
	x.groupUp[k], x.best[k], x.best2[k] = resize(x.groupUp[k], n), resize(x.best[k], n), resize(x.best2[k], n)
	groupUp, best, best2 := x.groupUp[k], x.best[k], x.best2[k]
	oval := func(id int32) uint32 { return pred(blocks, id).oval }
	for i, m := range members { // ancestors before descendants
		groupUp[i] = -1
		if p := t.parent[m]; p >= 0 {
			groupUp[i] = x.nearest(k, group[m], p)
		}
		b1, b2 := m, int32(-1)
		if up := groupUp[i]; up >= 0 {
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
		best[i], best2[i] = b1, b2
	}
}

// nearest returns the position in members of the member of group g (of
// kind k) that is v or its nearest ancestor, or -1. The member entered
// last before v is either v's ancestor or below a common ancestor;
// climbing the group from it reaches the answer, and group chains are
// short because libpcap's threading removes repeated tests.
func (x *decidingIndex) nearest(k int, g, v int32) int32 {
	members := x.members[k]
	lo, hi := x.start[k][g], x.start[k][g+1]
	i := lo + int32(sort.Search(int(hi-lo), func(i int) bool { return x.tin[members[lo+int32(i)]] > x.tin[v] })) - 1
	if i < lo {
		return -1
	}
	for i >= 0 {
		if s := members[i]; x.tin[s] <= x.tin[v] && x.tin[v] < x.tout[s] {
			break
		}
		i = x.groupUp[k][i]
	}
	return i
}

// firstTarget returns where ep should go instead of its successor's test,
// as the lowest-numbered dominating edge that decides that test and
// whose move feeds the same values on: nil if there is none. The groups
// to look in are those of the successor's own edges, which record the
// same test; within a group every edge decides it the same way, so only
// the lowest counts.
func (x *decidingIndex) firstTarget(ep *oedge, blocks []oblock) *oblock {
	child := ep.succ
	if child.isLeaf() || x.tin[child.et.id] < 0 {
		return nil
	}
	v, src := ep.id, pred(blocks, ep.id)
	bestID := int32(-1)
	var best *oblock
	consider := func(id int32, target *oblock) {
		if id >= 0 && (bestID < 0 || id < bestID) && !useConflict(src, target) {
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
		if id1 >= 0 && pred(blocks, id1).oval == child.oval {
			id1 = id2
		}
		consider(id1, child.jf())
	}
	return best
}
