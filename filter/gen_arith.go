package filter

// arth is an arithmetic value under construction, as libpcap's struct
// arth: code that leaves the value in scratch slot reg, and the protocol
// checks (if any) a packet must pass for the value to make sense.
type arth struct {
	stmts  []statement
	reg    int
	check  frag
	hasChk bool
}

func stMem(r int) statement  { return statement{op: ClassSt, k: uint32(r)} }
func ldMem(r int) statement  { return statement{op: ClassLd | ModeMem, k: uint32(r)} }
func ldxMem(r int) statement { return statement{op: ClassLdx | ModeMem, k: uint32(r)} }

var arithOps = [...]uint16{OpAdd: AluAdd, OpSub: AluSub, OpMul: AluMul, OpDiv: AluDiv, OpMod: AluMod,
	OpAnd: AluAnd, OpOr: AluOr, OpXor: AluXor, OpLsh: AluLsh, OpRsh: AluRsh}

// arith compiles an arithmetic expression; operands are compiled left to
// right so scratch slots are handed out in libpcap's order.
func (g *gen) arith(a Arith) arth {
	g.pos = a.Pos()
	switch a := a.(type) {
	case *Num:
		r := g.allocReg()
		return arth{stmts: []statement{{op: ClassLd | ModeImm, k: a.V}, stMem(r)}, reg: r}
	case *PacketLen:
		r := g.allocReg()
		return arth{stmts: []statement{{op: ClassLd | ModeLen}, stMem(r)}, reg: r}
	case *Neg:
		x := g.arith(a.X)
		x.stmts = append(x.stmts, ldMem(x.reg), statement{op: ClassAlu | AluNeg}, stMem(x.reg))
		return x
	case *Binary:
		x := g.arith(a.X)
		y := g.arith(a.Y)
		g.pos = a.Pos()
		return g.binary(a.Op, x, y)
	case *Load:
		index := g.arith(a.Index)
		g.pos = a.Pos()
		return g.load(a.Proto, index, a.Size)
	}
	panic("filter: unknown arithmetic node")
}

// binary is libpcap's gen_arth. Like libpcap it refuses a constant zero
// divisor and shifts of 32 or more when the right operand starts with a
// constant, and keeps only the left operand's protocol checks.
func (g *gen) binary(op ArithOp, x, y arth) arth {
	if first := y.stmts[0]; first.op == ClassLd|ModeImm {
		switch {
		case op == OpDiv && first.k == 0:
			g.fail("division by zero")
		case op == OpMod && first.k == 0:
			g.fail("modulus by zero")
		case (op == OpLsh || op == OpRsh) && first.k > 31:
			g.fail("shift by more than 31 bits")
		}
	}
	x.stmts = append(x.stmts, y.stmts...)
	x.stmts = append(x.stmts, ldxMem(y.reg), ldMem(x.reg), statement{op: ClassAlu | arithOps[op] | SrcX})
	g.freeReg(x.reg)
	g.freeReg(y.reg)
	x.reg = g.allocReg()
	x.stmts = append(x.stmts, stMem(x.reg))
	return x
}

// load is libpcap's gen_load: "proto[index:size]", the index relative to
// the protocol's header, guarded by a check that the packet has it.
func (g *gen) load(proto Proto, index arth, size int) arth {
	r := g.allocReg()
	g.freeReg(index.reg)
	var sizeCode uint16
	switch size {
	case 1:
		sizeCode = SizeB
	case 2:
		sizeCode = SizeH
	case 4:
		sizeCode = SizeW
	default:
		g.fail("data size must be 1, 2, or 4")
	}
	switch proto {
	case ProtoLink:
		g.requireLinkHeaderAtStart()
		index.stmts = append(index.stmts, g.indexFrom(&g.offLinkHdr, index.reg)...)
		index.stmts = append(index.stmts, ldInd(sizeCode, g.offLinkHdr.constant))
	case ProtoIP, ProtoARP, ProtoRARP, ProtoAtalk, ProtoDecnet, ProtoSCA, ProtoLAT, ProtoMOPRC, ProtoMOPDL, ProtoIPv6:
		g.requireLayout()
		index.stmts = append(index.stmts, g.indexFrom(&g.offLinkPL, index.reg)...)
		index.stmts = append(index.stmts, ldInd(sizeCode, g.offLinkPL.constant+g.offNL))
		index.addCheck(g.protoAbbrev(proto))
	case ProtoSCTP, ProtoTCP, ProtoUDP, ProtoICMP, ProtoIGMP, ProtoIGRP, ProtoPIM, ProtoVRRP, ProtoCARP:
		index.stmts = append(index.stmts, g.loadXIPHeaderLen()...)
		index.stmts = append(index.stmts, ldMem(index.reg),
			statement{op: ClassAlu | AluAdd | SrcX}, statement{op: ClassMisc | MiscTax},
			ldInd(sizeCode, g.offLinkPL.constant+g.offNL))
		// Only for the first or only fragment of an IPv4 datagram.
		b := and(g.protoAbbrev(proto), g.ipFrag())
		if index.hasChk {
			b = and(index.check, b)
		}
		index.check = and(g.protoAbbrev(ProtoIP), b)
		index.hasChk = true
	case ProtoICMPv6:
		index.addCheck(g.protoAbbrev(ProtoIPv6))
		index.addCheck(g.cmp(relLinkPL, 6, SizeB, ipprotoICMPv6))
		index.stmts = append(index.stmts, g.indexFrom(&g.offLinkPL, index.reg)...)
		index.stmts = append(index.stmts, ldInd(sizeCode, g.offLinkPL.constant+g.offNL+40))
	case ProtoRadio:
		index = g.radioLoad(index, sizeCode)
	default:
		g.fail("unsupported index operation: '%s' has no header to index", proto)
	}
	index.reg = r
	index.stmts = append(index.stmts, stMem(r))
	return index
}

// indexFrom puts in X the index computed into slot reg, plus the variable
// part of a header's offset when it has one.
func (g *gen) indexFrom(off *absOffset, reg int) []statement {
	if s := g.varPart(off); s != nil {
		return append(s, ldMem(reg), statement{op: ClassAlu | AluAdd | SrcX}, statement{op: ClassMisc | MiscTax})
	}
	return []statement{ldxMem(reg)}
}

// addCheck ands a new protocol check after the existing ones.
func (a *arth) addCheck(b frag) {
	if a.hasChk {
		b = and(a.check, b)
	}
	a.check, a.hasChk = b, true
}

var relJumps = [...]struct {
	jtype    uint16
	reversed bool
}{
	RelGt: {JmpJgt, false},
	RelGe: {JmpJge, false},
	RelEq: {JmpJeq, false},
	RelLe: {JmpJgt, true},
	RelLt: {JmpJge, true},
	RelNe: {JmpJeq, true},
}

// relation compares two arithmetic values (libpcap gen_relation).
func (g *gen) relation(c *Compare) frag {
	x := g.arith(c.X)
	y := g.arith(c.Y)
	rj := relJumps[c.Op]
	s := append(x.stmts, y.stmts...)
	s = append(s, ldxMem(y.reg), ldMem(x.reg))
	var b *block
	if rj.jtype == JmpJeq {
		s = append(s, statement{op: ClassAlu | AluSub | SrcX})
		b = &block{jump: statement{op: ClassJmp | JmpJeq | SrcK}}
	} else {
		b = &block{jump: statement{op: ClassJmp | rj.jtype | SrcX}}
	}
	b.stmts = s
	f := leaf(b)
	if rj.reversed {
		f = not(f)
	}
	g.freeReg(x.reg)
	g.freeReg(y.reg)
	switch {
	case x.hasChk && y.hasChk:
		f = and(and(x.check, y.check), f)
	case x.hasChk:
		f = and(x.check, f)
	case y.hasChk:
		f = and(y.check, f)
	}
	return f
}
