package filter

// More opcodes as the optimizer holds them (see opLdImmC).
const (
	opAddXC  = int32(ClassAlu | AluAdd | SrcX)
	opSubXC  = int32(ClassAlu | AluSub | SrcX)
	opSubKC  = int32(ClassAlu | AluSub | SrcK)
	opAndKC  = int32(ClassAlu | AluAnd | SrcK)
	opJeqKC  = int32(ClassJmp | JmpJeq | SrcK)
	opJeqXC  = int32(ClassJmp | JmpJeq | SrcX)
	opJsetKC = int32(ClassJmp | JmpJset | SrcK)
)

// peephole rewrites short statement patterns and the block's jump
// (libpcap's opt_peep):
//
//	st M[k]; ldx M[k]          -> st M[k]; tax
//	ld #k; tax                 -> ldx #k; txa
//	ld #k; [ldxms]; addx; tax; ld [x+o] -> [ldxms]; ld [x+o+k]
//	sub x; jeq #0              -> jeq x     (A unused after the block)
//	sub #k; jeq #j             -> jeq #j+k
//	and #k; jeq #0             -> jset #k, branches swapped
//
// and decides tests on known constants. A block without statements is
// left alone, as libpcap does.
func (o *optimizer) peephole(b *oblock) {
	st := b.stmts
	if len(st) == 0 {
		return
	}
	last := 0
	for i := 0; ; {
		i = nextOp(st, i)
		if i < 0 {
			break
		}
		next := nextOp(st, i+1)
		if next < 0 {
			break
		}
		last = next
		s, n := &st[i], &st[next]
		if s.code == opStC && n.code == opLdxMemC && s.k == n.k {
			o.changed()
			n.code = opTaxC
		}
		if s.code == opLdImmC && n.code == opTaxC {
			s.code = opLdxImmC
			n.code = opTxaC
			o.changed()
		}
		if s.code == opLdImmC && !b.outUse.has(atomX) {
			o.foldConstantIndex(st, i, next)
		}
		i = next
	}
	o.peepJump(b, &st[last])
}

// foldConstantIndex handles "tcp[k]" with a constant k: the constant
// added to X before an indexed load goes into the load's offset instead.
func (o *optimizer) foldConstantIndex(st []ostmt, i, next int) {
	add := next
	if st[next].code == opLdxMshC {
		add = nextOp(st, next+1)
	}
	if add < 0 || st[add].code != opAddXC {
		return
	}
	tax := nextOp(st, add+1)
	if tax < 0 || st[tax].code != opTaxC {
		return
	}
	ild := nextOp(st, tax+1)
	if ild < 0 || uint16(st[ild].code)&7 != ClassLd || uint16(st[ild].code)&0xe0 != ModeInd {
		return
	}
	st[ild].k += st[i].k
	st[i].code, st[add].code, st[tax].code = opNop, opNop, opNop
	o.changed()
}

// peepJump simplifies the jump of b, whose last statement is last.
func (o *optimizer) peepJump(b *oblock, last *ostmt) {
	vt := &o.values
	if b.s.code == opJeqKC && !b.outUse.has(atomA) {
		switch {
		case last.code == opSubXC:
			if v := b.val[atomX]; vt.isConst(v) {
				b.s.k += vt.consts[v]
				last.code = opNop
				o.changed()
			} else if b.s.k == 0 {
				last.code = opNop
				b.s.code = opJeqXC
				o.changed()
			}
		case last.code == opSubKC:
			last.code = opNop
			b.s.k += last.k
			o.changed()
		case last.code == opAndKC && b.s.k == 0:
			b.s.k = last.k
			b.s.code = opJsetKC
			last.code = opNop
			o.changed()
			b.et.succ, b.ef.succ = b.ef.succ, b.et.succ
		}
	}
	if b.s.code == opJsetKC {
		if b.s.k == 0 {
			b.et.succ = b.ef.succ
		}
		if b.s.k == 0xffffffff {
			// Wrong when A is 0, as in libpcap 1.10.3, which tcpdump's
			// verdicts follow.
			b.ef.succ = b.et.succ
			o.allOnesJset = true
		}
	}
	if v := b.val[atomX]; vt.isConst(v) && uint16(b.s.code)&SrcX != 0 {
		b.s.code &^= int32(SrcX)
		b.s.k = vt.consts[v]
	}
	if v := b.val[atomA]; vt.isConst(v) && uint16(b.s.code)&SrcX == 0 && Class(uint16(b.s.code)) == ClassJmp {
		holds := testHolds(statement{op: uint16(b.s.code), k: b.s.k}, vt.consts[v], 0)
		if b.jf() != b.jt() {
			o.changed()
		}
		if holds {
			b.ef.succ = b.et.succ
		} else {
			b.et.succ = b.ef.succ
		}
	}
}
