package filter

// segments finds, along "or" chains (false edges) or "and" chains (true
// edges), runs of blocks that a pullup walk passes over as one: linked by
// the chain edge, with the same exit and the same value in A, each
// dominating the next (at the start of the pass). A walk that accepts the
// first block of a run accepts all of it, since whatever dominates the
// first dominates the rest.
//
// Runs are found with union-find style pointers (each block points to a
// block further along its run) that are checked live at their end and
// extended as the chain changes. A pullup changes a few edges; a change
// that a pointer jumps over, or that changes the exit of a block a
// pointer relies on, drops every pointer (a new epoch); other changes
// only reset the block's own pointer.
type segments struct {
	onTrue bool // the chain follows true edges ("and")
	doms   *domTree
	epoch  uint32
	seen   []uint32  // epoch of each block's entries
	next   []*oblock // a block further along the same run, or the block itself
	over   []bool    // some pointer jumps over the block
	landed []bool    // some other block's pointer ends at the block
}

func (s *segments) reset(doms *domTree, nBlocks int) {
	s.doms = doms
	s.epoch++
	if len(s.seen) < nBlocks {
		s.seen = make([]uint32, nBlocks)
		s.next = make([]*oblock, nBlocks)
		s.over = make([]bool, nBlocks)
		s.landed = make([]bool, nBlocks)
	}
}

func (s *segments) chain(x *oblock) *oblock {
	if s.onTrue {
		return x.et.succ
	}
	return x.ef.succ
}

func (s *segments) exit(x *oblock) *oblock {
	if s.onTrue {
		return x.ef.succ
	}
	return x.et.succ
}

func (s *segments) touch(x *oblock) {
	if s.seen[x.id] != s.epoch {
		s.seen[x.id] = s.epoch
		s.next[x.id] = x
		s.over[x.id] = false
		s.landed[x.id] = false
	}
}

// linked tells whether x and its chain successor are in one run.
func (s *segments) linked(x *oblock) bool {
	y := s.chain(x)
	return y != nil && !x.isLeaf() && !y.isLeaf() && s.exit(x) == s.exit(y) &&
		x.val[atomA] == y.val[atomA] && s.doms.dominates(x, y)
}

// find returns the last block of x's run.
func (s *segments) find(x *oblock) *oblock {
	r := x
	for {
		s.touch(r)
		if n := s.next[r.id]; n != r {
			r = n
			continue
		}
		if !s.linked(r) {
			break
		}
		y := s.chain(r)
		s.touch(y)
		s.next[r.id] = y
		s.landed[y.id] = true
		r = y
	}
	for z := x; z != r; {
		n := s.next[z.id]
		s.next[z.id] = r
		if z != x {
			s.over[z.id] = true
		}
		z = n
	}
	if x != r {
		s.landed[r.id] = true
	}
	return r
}

// moved records that the edge at sl now goes elsewhere.
func (s *segments) moved(sl slot) {
	x := sl.b
	s.touch(x)
	if sl.onTrue == s.onTrue { // x's chain edge
		if s.over[x.id] {
			s.epoch++
			return
		}
	} else if s.over[x.id] || s.landed[x.id] { // x's exit
		s.epoch++
		return
	}
	s.next[x.id] = x
}
