package filter

import "errors"

// optimizeTree optimizes a generated graph as pcap_compile does: not at
// all when the generator emitted code the optimizer cannot handle, and
// refusing a filter that matches nothing. It returns the blocks in the
// order to assemble them.
func optimizeTree(root *block, noOptimize bool) ([]*block, error) {
	if noOptimize {
		return postOrder(root), nil
	}
	root, err := optimize(root, true)
	if err != nil {
		return nil, err
	}
	return layoutBlocks(root), nil
}

// errRejectsAll is libpcap's verdict on a filter its optimizer reduces to
// "ret #0"; weir's own passes may prove more filters empty, but refusing
// those would refuse what tcpdump accepts.
var errRejectsAll = errors.New("expression rejects all packets")

// optimize rewrites the graph under root into a shorter equivalent one and
// returns the new root. It first reproduces libpcap 1.10.3's optimizer
// (bpf_optimize) step for step, so that the program equals tcpdump's and
// so do its verdicts, including on packets too short for a load libpcap
// drops or keeps; then, when shorten is set, it runs passes of its own
// that make the program shorter without changing which loads any packet
// executes.
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
// branches meet (optRoot). weir's passes are listed in shortenPasses; the
// layout (layoutBlocks) comes after.
func optimize(root *block, shorten bool) (result *block, err error) {
	return optimizeWith(root, shorten, false)
}

// optimizeWith is optimize, with libpcap's own search for branch moves
// when reference is set.
func optimizeWith(root *block, shorten, reference bool) (result *block, err error) {
	o, ok := newOptimizer(root)
	if !ok {
		return root, nil
	}
	o.reference = reference
	defer o.recoverError(&result, &err)
	o.libpcap()
	if r := o.root; r.isLeaf() && r.s.code == int32(ClassRet|SrcK) && r.s.k == 0 {
		return nil, errRejectsAll
	}
	if shorten {
		o.shorten()
	}
	return toIR(o.root, len(o.blocks)), nil
}

// shorten runs weir's own passes to a fixpoint (see shortenPasses).
func (o *optimizer) shorten() {
	for changed := true; changed; {
		changed = false
		for _, pass := range shortenPasses {
			var c bool
			if o.root, c = pass(o.root, len(o.blocks)); c {
				changed = true
			}
		}
		if changed {
			internBlocks(o.root, o.blocks, &o.tmp)
		}
	}
}

// shortenPasses are weir's passes. Each keeps, on every path a packet can
// take, every statement that can stop the program before it decides
// otherwise, in the same order, so verdicts stay libpcap's even on
// packets too short for some load. Each returns the new root and whether
// it changed anything.
var shortenPasses = []func(root *oblock, nBlocks int) (*oblock, bool){
	fuseTests,
	dropDecidedTests,
	collapseRejecting,
}

// libpcap is libpcap's bpf_optimize.
func (o *optimizer) libpcap() {
	o.loop(false)
	o.loop(true)
	internBlocks(o.root, o.blocks, &o.tmp)
	o.root = optRoot(o.root)
}

// recoverError turns an optError panic into the returned error.
func (o *optimizer) recoverError(result **block, err *error) {
	if r := recover(); r != nil {
		oe, ok := r.(optError)
		if !ok {
			panic(r)
		}
		*result, *err = nil, errors.New(oe.msg)
	}
}

// optimizer is the state of one optimization, libpcap's opt_state.
type optimizer struct {
	root     *oblock
	blocks   []oblock // by id; edges by id through edge
	levels   levelList
	levelBuf levelBuf
	values   valueTable
	doms     domTree // block dominators at the start of the pass
	edoms    domTree // edge dominators at the start of the pass
	deciding decidingIndex
	tmp      scratch
	orRuns   segments
	andRuns  segments

	done          bool // nothing changed in this pass
	nonBranchMove bool // something other than a branch move changed

	// allOnesJset records that libpcap's peephole took "jset #0xffffffff"
	// as always holding, a libpcap bug weir keeps; tests use it to tell
	// that difference from unoptimized programs from others.
	allOnesJset bool

	// reference makes branch moves search as libpcap does, scanning every
	// dominator and chain block; tests compare it with the fast search.
	reference bool
}

// newOptimizer copies the graph; it reports false for graphs libpcap's
// optimizer could not represent (scratch slots out of range).
func newOptimizer(root *block) (*optimizer, bool) {
	blocks := newOptGraph(root)
	for i := range blocks {
		for _, s := range blocks[i].stmts {
			c := uint16(s.code)
			usesSlot := Class(c) == ClassSt || Class(c) == ClassStx ||
				(Class(c) == ClassLd || Class(c) == ClassLdx) && c&0xe0 == ModeMem
			if usesSlot && s.k >= MemWords {
				return nil, false
			}
		}
	}
	if len(blocks) == 0 {
		return &optimizer{}, true
	}
	// Scratch for the largest step, numbering the edge dominator tree
	// (two lists of two per block), made once.
	return &optimizer{root: &blocks[0], blocks: blocks, tmp: make(scratch, 4*len(blocks))}, true
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
		o.levels = findLevels(o.root, len(o.blocks), &o.levelBuf)
		findUD(o.levels)
		if !doStmts { // only branch moves need dominators
			findDominators(&o.doms, &o.tmp, o.root, o.levels, len(o.blocks))
			findEdgeDominators(&o.edoms, &o.tmp, o.root, o.levels, len(o.blocks))
		}
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
	for level := o.levels.len() - 1; level >= 0; level-- {
		for _, b := range o.levels.at(level) {
			o.optBlock(b, doStmts)
		}
	}
	if doStmts {
		return
	}
	if !o.reference {
		o.deciding.build(&o.edoms, &o.tmp, o.blocks)
	}
	for level := 1; level < o.levels.len(); level++ {
		for _, b := range o.levels.at(level) {
			o.threadEdge(&b.et)
			o.threadEdge(&b.ef)
		}
	}
	findInEdges(o.blocks, o.levels)
	o.orRuns.reset(&o.doms, len(o.blocks))
	o.andRuns.onTrue = true
	o.andRuns.reset(&o.doms, len(o.blocks))
	for level := 1; level < o.levels.len(); level++ {
		for _, b := range o.levels.at(level) {
			o.orPullup(b)
			o.andPullup(b)
		}
	}
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
