package filter

import "slices"

// useConflict tells whether moving an edge from b's exit to succ would
// feed succ's successors different values: some atom live after succ has
// another value number there than after b (libpcap's use_conflict).
func useConflict(b, succ *oblock) bool {
	use := succ.outUse
	if use == 0 {
		return false
	}
	for atom := 0; atom < nAtoms; atom++ {
		if use.has(atom) && b.val[atom] != succ.val[atom] {
			return true
		}
	}
	return false
}

// foldEdge tells where child's test goes when the dominating edge ep,
// from src, has been taken: if src tested the same value the same way,
// child's outcome is ep's; a true equality test against a constant also
// decides any other equality test on the same value (libpcap's
// fold_edge).
func foldEdge(child *oblock, ep *oedge, src *oblock) *oblock {
	code, sense := ep.code, true
	if code < 0 {
		code, sense = -code, false
	}
	if child.s.code != code {
		return nil
	}
	if child.val[atomA] != src.val[atomA] {
		return nil
	}
	if child.oval == src.oval {
		if sense {
			return child.jt()
		}
		return child.jf()
	}
	if sense && code == opJeqKC {
		return child.jf()
	}
	return nil
}

// threadEdge moves ep past tests whose outcome is already known on every
// path to it (libpcap's opt_j): a test whose branches meet, and a test
// decided by an edge that dominates ep. libpcap tries the dominating edges
// in id order and restarts after each move; the first that applies is
// the one with the smallest id among those that apply, which the index
// finds without scanning every dominator.
func (o *optimizer) threadEdge(ep *oedge) {
	if ep.succ.isLeaf() {
		return
	}
	if ep.succ.jt() == ep.succ.jf() && !useConflict(o.pred(ep), ep.succ.jt()) {
		o.changed()
		ep.succ = ep.succ.jt()
	}
	for {
		var target *oblock
		if o.reference {
			target = o.scanDominators(ep)
		} else {
			target = o.deciding.firstTarget(ep, o.blocks)
		}
		if target == nil {
			return
		}
		o.done = false
		ep.succ = target
		if target.isLeaf() {
			return
		}
	}
}

// scanDominators is libpcap's own search: every edge dominating ep, in id
// order, until one decides ep's successor's test.
func (o *optimizer) scanDominators(ep *oedge) *oblock {
	var doms []int32
	for e := ep.id; e >= 0; e = o.edoms.parent[e] {
		doms = append(doms, e)
	}
	slices.Sort(doms)
	for _, k := range doms {
		if target := foldEdge(ep.succ, edge(o.blocks, k), pred(o.blocks, k)); target != nil && !useConflict(o.pred(ep), target) {
			return target
		}
	}
	return nil
}

// orPullup and andPullup move a test up a chain of tests that share an
// exit (libpcap's or_pullup and and_pullup): in "A or B or A'" where A'
// tests the value A's predecessors left, A' is hoisted above B. An "or"
// chain follows false edges and shares the true exit; an "and" chain the
// reverse. libpcap walks the chain node by node, which is quadratic on
// long chains; the walk here jumps over runs of nodes that all pass or
// all stop it (segments), with the same result.
func (o *optimizer) orPullup(b *oblock)  { o.pullup(b, &o.orRuns) }
func (o *optimizer) andPullup(b *oblock) { o.pullup(b, &o.andRuns) }

// slot is a successor pointer: b's true or false edge.
type slot struct {
	b      *oblock
	onTrue bool
}

func (s slot) get() *oblock {
	if s.onTrue {
		return s.b.et.succ
	}
	return s.b.ef.succ
}

func (o *optimizer) set(s slot, v *oblock) {
	if s.onTrue {
		s.b.et.succ = v
	} else {
		s.b.ef.succ = v
	}
	o.orRuns.moved(s)
	o.andRuns.moved(s)
}

func (o *optimizer) pullup(b *oblock, runs *segments) {
	ep := b.inEdges
	if ep == nil {
		return
	}
	val := o.pred(ep).val[atomA]
	for e := ep.next; e != nil; e = e.next {
		if o.pred(e).val[atomA] != val {
			return
		}
	}
	first := o.pred(b.inEdges)
	diffp := slot{first, first.et.succ == b}
	exit := runs.exit(b)
	stops := func(d *oblock) bool {
		return d == nil || runs.exit(d) != exit || !o.doms.dominates(b, d)
	}
	atTop := true
	for {
		d := diffp.get()
		if stops(d) {
			return
		}
		if d.val[atomA] != val {
			break
		}
		diffp = slot{o.runEnd(runs, d), runs.onTrue}
		atTop = false
	}
	samep := slot{diffp.get(), runs.onTrue}
	for {
		s := samep.get()
		if stops(s) {
			return
		}
		if s.val[atomA] == val {
			break
		}
		samep = slot{o.runEnd(runs, s), runs.onTrue}
	}
	pull := samep.get()
	pullNext := slot{pull, runs.onTrue}
	o.set(samep, pullNext.get())
	o.set(pullNext, diffp.get())
	if atTop {
		for e := b.inEdges; e != nil; e = e.next {
			p := o.pred(e)
			o.set(slot{p, p.et.succ == b}, pull)
		}
	} else {
		o.set(diffp, pull)
	}
	o.done = false
}

// runEnd is the last block of d's run, or d itself when walking block by
// block as libpcap does.
func (o *optimizer) runEnd(runs *segments, d *oblock) *oblock {
	if o.reference {
		return d
	}
	return runs.find(d)
}
