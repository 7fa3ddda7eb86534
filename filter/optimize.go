package filter

import "errors"

// optimizeTree optimizes a generated graph as pcap_compile does: not at
// all when the generator emitted code the optimizer cannot handle, and
// refusing a filter that then matches nothing.
func optimizeTree(root *block, noOptimize bool) (*block, error) {
	if noOptimize {
		return root, nil
	}
	root, err := optimize(root)
	if err != nil {
		return nil, err
	}
	if rejectsAll(root) {
		return nil, errors.New("expression rejects all packets")
	}
	return root, nil
}

// optimize rewrites the graph under root into a shorter equivalent one and
// returns the new root. It first reproduces libpcap 1.10.3's optimizer
// (bpf_optimize) step for step, so that the program equals tcpdump's and
// so do its verdicts, including on packets too short for a load libpcap
// drops or keeps; then it runs passes of its own that only shorten the
// program without changing which loads any packet executes.
//
// libpcap's part, run to a fixpoint twice (first moving branches, then
// simplifying statements), each pass:
//   - numbers values per block from its predecessors (constant folding
//     and propagation, redundant load elimination: optStmt, optBlock);
//   - rewrites statement patterns and decides constant tests (peephole);
//   - deletes dead stores (deadStores);
//   - threads edges past tests decided on every path to them, over edge
//     dominators (threadEdge);
//   - hoists repeated tests in "or" and "and" chains (pullup);
//
// then merges identical blocks (internBlocks) and skips entry tests whose
// branches meet (optRoot).
func optimize(root *block) (result *block, err error) {
	o, ok := newOptimizer(root)
	if !ok {
		return root, nil
	}
	defer func() {
		if r := recover(); r != nil {
			oe, ok := r.(optError)
			if !ok {
				panic(r)
			}
			result, err = nil, errors.New(oe.msg)
		}
	}()
	o.loop(false)
	o.loop(true)
	internBlocks(o.root, len(o.blocks))
	o.root = optRoot(o.root)
	return toIR(o.root), nil
}

// optimizer is the state of one optimization, libpcap's opt_state.
type optimizer struct {
	root   *oblock
	blocks []*oblock // by id
	edges  []*oedge  // by id
	levels [][]*oblock
	values valueTable
	doms   *domTree // block dominators at the start of the pass
	edoms  *domTree // edge dominators at the start of the pass

	done          bool // nothing changed in this pass
	nonBranchMove bool // something other than a branch move changed
}

// newOptimizer copies the graph; it reports false for graphs libpcap's
// optimizer could not represent (scratch slots out of range).
func newOptimizer(root *block) (*optimizer, bool) {
	oroot, blocks, edges := newOptGraph(root)
	for _, b := range blocks {
		for _, s := range b.stmts {
			c := uint16(s.code)
			usesSlot := Class(c) == ClassSt || Class(c) == ClassStx ||
				(Class(c) == ClassLd || Class(c) == ClassLdx) && c&0xe0 == ModeMem
			if usesSlot && s.k >= MemWords {
				return nil, false
			}
		}
	}
	return &optimizer{root: oroot, blocks: blocks, edges: edges}, true
}

// maxBranchOnlyPasses bounds a run of passes that only move branches:
// libpcap's optimizer can cycle there, and gives up after 100.
const maxBranchOnlyPasses = 100

// loop runs passes until one changes nothing (libpcap's opt_loop).
func (o *optimizer) loop(doStmts bool) {
	branchOnly := 0
	for {
		o.done = true
		o.nonBranchMove = false
		o.levels = findLevels(o.root, len(o.blocks))
		o.doms = findDominators(o.root, o.levels, len(o.blocks))
		findUD(o.levels)
		o.edoms = findEdgeDominators(o.root, o.levels, len(o.blocks))
		o.pass(doStmts)
		if o.done {
			return
		}
		if o.nonBranchMove {
			branchOnly = 0
		} else if branchOnly++; branchOnly >= maxBranchOnlyPasses {
			return
		}
	}
}

// pass is one round over the graph (libpcap's opt_blks).
func (o *optimizer) pass(doStmts bool) {
	o.values.reset()
	findInEdges(o.blocks, o.levels)
	for level := len(o.levels) - 1; level >= 0; level-- {
		for _, b := range o.levels[level] {
			o.optBlock(b, doStmts)
		}
	}
	if doStmts {
		return
	}
	for level := 1; level < len(o.levels); level++ {
		for _, b := range o.levels[level] {
			o.threadEdge(&b.et)
			o.threadEdge(&b.ef)
		}
	}
	findInEdges(o.blocks, o.levels)
	for level := 1; level < len(o.levels); level++ {
		for _, b := range o.levels[level] {
			o.orPullup(b)
			o.andPullup(b)
		}
	}
}

// rejectsAll tells whether an optimized program returns 0 at its entry,
// libpcap's test for "expression rejects all packets".
func rejectsAll(root *block) bool {
	return root.isReturn() && root.jump.op == ClassRet|SrcK && root.jump.k == 0
}

// testHolds evaluates a jump on a known A (and X).
func testHolds(j statement, a, x uint32) bool {
	v := j.k
	if j.op&SrcX != 0 {
		v = x
	}
	switch j.op & 0xf0 {
	case JmpJeq:
		return a == v
	case JmpJgt:
		return a > v
	case JmpJge:
		return a >= v
	case JmpJset:
		return a&v != 0
	}
	return false
}
