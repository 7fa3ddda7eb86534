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

// foldEdge tells where child's test goes when the dominating edge ep has
// been taken: if ep's source tested the same value the same way, child's
// outcome is ep's; a true equality test against a constant also decides
// any other equality test on the same value (libpcap's fold_edge).
func foldEdge(child *oblock, ep *oedge) *oblock {
	code, sense := ep.code, true
	if code < 0 {
		code, sense = -code, false
	}
	if child.s.code != code {
		return nil
	}
	if child.val[atomA] != ep.pred.val[atomA] {
		return nil
	}
	if child.oval == ep.pred.oval {
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
// decided by an edge that dominates ep. The dominating edges are tried
// in id order and the search restarts after each move, as libpcap does.
func (o *optimizer) threadEdge(ep *oedge) {
	if ep.succ.isLeaf() {
		return
	}
	if ep.succ.jt() == ep.succ.jf() && !useConflict(ep.pred, ep.succ.jt()) {
		o.changed()
		ep.succ = ep.succ.jt()
	}
	doms := o.edgeDominators(ep.id)
top:
	for _, k := range doms {
		target := foldEdge(ep.succ, o.edges[k])
		if target != nil && !useConflict(ep.pred, target) {
			o.done = false
			ep.succ = target
			if !target.isLeaf() {
				goto top
			}
			return
		}
	}
}

// edgeDominators lists the edges dominating edge e, itself included, in
// increasing id order.
func (o *optimizer) edgeDominators(e int) []int {
	t := o.edoms
	var out []int
	for v := e; v >= 0; v = int(t.up[0][v]) {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// orPullup and andPullup move a test up a chain of tests that share an
// exit (libpcap's or_pullup and and_pullup): in "A or B or A'" where A'
// tests the value A's predecessors left, A' is hoisted above B. The
// caller passes the chain direction: false edges for "or", true edges for
// "and".
func (o *optimizer) orPullup(b *oblock)  { o.pullup(b, false) }
func (o *optimizer) andPullup(b *oblock) { o.pullup(b, true) }

func (o *optimizer) pullup(b *oblock, chainOnTrue bool) {
	// exitOf is the shared exit; chain follows the other branch.
	exitOf := func(x *oblock) *oblock { return x.et.succ }
	chain := func(x *oblock) **oblock { return &x.ef.succ }
	if chainOnTrue {
		exitOf = func(x *oblock) *oblock { return x.ef.succ }
		chain = func(x *oblock) **oblock { return &x.et.succ }
	}
	ep := b.inEdges
	if ep == nil {
		return
	}
	val := ep.pred.val[atomA]
	for e := ep.next; e != nil; e = e.next {
		if e.pred.val[atomA] != val {
			return
		}
	}
	var diffp **oblock
	if first := b.inEdges.pred; first.et.succ == b {
		diffp = &first.et.succ
	} else {
		diffp = &first.ef.succ
	}
	atTop := true
	for {
		d := *diffp
		if d == nil || exitOf(d) != exitOf(b) || !o.doms.dominates(b, d) {
			return
		}
		if d.val[atomA] != val {
			break
		}
		diffp = chain(d)
		atTop = false
	}
	samep := chain(*diffp)
	for {
		s := *samep
		if s == nil || exitOf(s) != exitOf(b) || !o.doms.dominates(b, s) {
			return
		}
		if s.val[atomA] == val {
			break
		}
		samep = chain(s)
	}
	pull := *samep
	*samep = *chain(pull)
	*chain(pull) = *diffp
	if atTop {
		for e := b.inEdges; e != nil; e = e.next {
			if e.pred.et.succ == b {
				e.pred.et.succ = pull
			} else {
				e.pred.ef.succ = pull
			}
		}
	} else {
		*diffp = pull
	}
	o.done = false
}
