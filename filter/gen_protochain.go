package filter

// protochain compiles "[ip|ip6] protochain N": the packet's protocol is N,
// or a chain of IPv6 extension headers and AH headers ends in N (libpcap
// gen_protochain). The walk is a loop, a backward "ja" inside one block,
// so, as libpcap does, the program is left unoptimized; the kernel's
// classic BPF refuses it, weir's VM runs it.
func (g *gen) protochain(v uint32, proto Proto) frag {
	// libpcap takes the slot before looking at the protocol, and keeps it
	// taken when it recurses for both versions.
	reg := g.allocReg()
	switch proto {
	case ProtoIP, ProtoIPv6:
	case ProtoDefault:
		b0 := g.protochain(v, ProtoIP)
		return or(b0, g.protochain(v, ProtoIPv6))
	default:
		g.fail("bad protocol applied for 'protochain'")
	}
	if g.offLinkPL.variable {
		g.fail("'protochain' not supported with variable length headers")
	}
	g.noOptimize = true

	nl := uint32(g.offLinkPL.constant + g.offNL)
	c := chainCode{g: g}
	var b0 frag
	if proto == ProtoIP {
		b0 = g.linkType(ethertypeIP)
		c.add(statement{op: ClassLd | ModeAbs | SizeB, k: nl + 9}) // A = protocol
		c.add(statement{op: ClassLdx | ModeMsh | SizeB, k: nl})    // X = header length
	} else {
		b0 = g.linkType(ethertypeIPv6)
		c.add(statement{op: ClassLd | ModeAbs | SizeB, k: nl + 6}) // A = next header
		c.add(statement{op: ClassLdx | ModeImm, k: 40})            // X = fixed header length
	}
	again, end, ahCheck := g.newLabel(), g.newLabel(), g.newLabel()
	c.label(again)
	c.jeq(v, end, 0)
	if proto == ProtoIPv6 {
		c.jeq(ipprotoNone, end, 0)
		advance := g.newLabel()
		for _, ext := range []uint32{ipprotoHopopts, ipprotoDstopts, ipprotoRouting} {
			c.jeq(ext, advance, 0)
		}
		c.jeq(ipprotoFragment, advance, ahCheck)
		// Next header at X; X += (length field + 1) * 8.
		c.label(advance)
		c.add(ldInd(SizeB, int(nl)), stMem(reg), ldInd(SizeB, int(nl)+1),
			aluK(AluAdd, 1), aluK(AluMul, 8), statement{op: ClassAlu | AluAdd | SrcX},
			statement{op: ClassMisc | MiscTax}, ldMem(reg))
		c.jumpBack(again)
	} else {
		c.jeq(ipprotoNone, end, 0)
		c.add(aluK(AluAdd, 0)) // libpcap's no-op before the AH check
	}
	// AH: next header at X; X += (length field + 2) * 4.
	c.label(ahCheck)
	c.jeq(ipprotoAH, 0, end)
	txa := statement{op: ClassMisc | MiscTxa}
	c.add(txa, ldInd(SizeB, int(nl)), stMem(reg), txa, aluK(AluAdd, 1),
		statement{op: ClassMisc | MiscTax}, ldInd(SizeB, int(nl)),
		aluK(AluAdd, 2), aluK(AluMul, 4), statement{op: ClassMisc | MiscTax}, ldMem(reg))
	c.jumpBack(again)
	c.label(end)
	c.add(aluK(AluAdd, 0))

	g.freeReg(reg)
	b := leaf(&block{stmts: c.finish(), jump: statement{op: ClassJmp | JmpJeq | SrcK, k: v}})
	return and(b0, b)
}

// chainCode builds the straight-line statements of a block holding jumps
// to labels: a conditional jump whose false target is 0 falls through to
// the next statement, and a label names the statement added after it.
type chainCode struct {
	g       *gen
	stmts   []statement
	pending int32         // label for the next statement added
	labels  map[int32]int // label -> statement index, for backward jumps
}

func (c *chainCode) add(ss ...statement) {
	for _, s := range ss {
		if c.pending != 0 {
			s.label = c.pending
			if c.labels == nil {
				c.labels = make(map[int32]int)
			}
			c.labels[c.pending] = len(c.stmts)
			c.pending = 0
		}
		c.stmts = append(c.stmts, s)
	}
}

func (c *chainCode) label(l int32) { c.pending = l }

// jeq adds "jeq #k" jumping to the labelled statements jt and jf; a zero
// label means the statement right after the jump.
func (c *chainCode) jeq(k uint32, jt, jf int32) {
	c.add(statement{op: ClassJmp | JmpJeq | SrcK, k: k, jt: jt, jf: jf})
}

// jumpBack adds a "ja" to an earlier labelled statement.
func (c *chainCode) jumpBack(l int32) {
	c.add(statement{op: ClassJmp | JmpJa, k: uint32(c.labels[l] - len(c.stmts) - 1)})
}

// finish gives the statements, every fall-through target labelled.
func (c *chainCode) finish() []statement {
	for i := range c.stmts {
		s := &c.stmts[i]
		if s.op != ClassJmp|JmpJeq|SrcK {
			continue
		}
		for _, target := range []*int32{&s.jt, &s.jf} {
			if *target != 0 {
				continue
			}
			next := &c.stmts[i+1]
			if next.label == 0 {
				next.label = c.g.newLabel()
			}
			*target = next.label
		}
	}
	return c.stmts
}
