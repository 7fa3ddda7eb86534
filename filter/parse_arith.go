package filter

func isRelop(k tokenKind) bool {
	switch k {
	case tokGt, tokGe, tokEq, tokLt, tokLe, tokNe:
		return true
	}
	return false
}

func isArithOp(k tokenKind) bool {
	_, prec := binop(k)
	return prec > 0 || k == tokCaret || k == tokPercent
}

const comparison = "a comparison (=, !=, <, <=, >, >=)"

var relops = map[tokenKind]RelOp{
	tokEq: RelEq, tokNe: RelNe, tokLt: RelLt, tokLe: RelLe, tokGt: RelGt, tokGe: RelGe,
}

func (p *parser) relation(x Arith) Node {
	t := p.tok()
	if !isRelop(t.Kind) {
		p.expected(comparison)
	}
	p.next()
	y := p.arith()
	return &Compare{Span{x.Pos(), y.End()}, relops[t.Kind], x, y}
}

// Arithmetic, as grammar.y's precedence declarations: '|' < '&' <
// shifts < '+' '-' < '*' '/' < unary minus. '^' and '%' have no declared
// precedence, so yacc always shifts them: they take the operand just
// before them and everything after ("a + b ^ c * d" is a + (b ^ (c * d))).

func binop(k tokenKind) (ArithOp, int) {
	switch k {
	case tokPipe:
		return OpOr, 1
	case tokAmp:
		return OpAnd, 2
	case tokLsh:
		return OpLsh, 3
	case tokRsh:
		return OpRsh, 3
	case tokPlus:
		return OpAdd, 4
	case tokMinus:
		return OpSub, 4
	case tokStar:
		return OpMul, 5
	case tokSlash:
		return OpDiv, 5
	}
	return 0, 0
}

func (p *parser) arith() Arith { return p.climb(p.unary(), 1) }

// arithFrom continues an expression whose first operand x is parsed.
func (p *parser) arithFrom(x Arith) Arith { return p.climb(p.absorb(x), 1) }

func (p *parser) climb(x Arith, min int) Arith {
	for {
		op, prec := binop(p.tok().Kind)
		if prec == 0 || prec < min {
			return x
		}
		p.next()
		y := p.unary()
		for {
			_, next := binop(p.tok().Kind)
			if next <= prec {
				break
			}
			y = p.climb(y, next)
		}
		x = &Binary{Span{x.Pos(), y.End()}, op, x, y}
	}
}

func (p *parser) unary() Arith {
	if t := p.tok(); t.Kind == tokMinus {
		p.next()
		x := p.unary()
		return &Neg{Span{t.Pos, x.End()}, x}
	}
	return p.absorb(p.primary())
}

// absorb applies a following '^' or '%' to x alone.
func (p *parser) absorb(x Arith) Arith {
	t := p.tok()
	if t.Kind != tokCaret && t.Kind != tokPercent {
		return x
	}
	p.next()
	y := p.arith()
	op := OpXor
	if t.Kind == tokPercent {
		op = OpMod
	}
	return &Binary{Span{x.Pos(), y.End()}, op, x, y}
}

func (p *parser) primary() Arith {
	t := p.tok()
	switch t.Kind {
	case tokNum:
		p.next()
		return numNode(t)
	case tokLen:
		p.next()
		return &PacketLen{Span{t.Pos, t.End()}}
	case tokPname:
		return p.load()
	case tokLParen:
		p.next()
		x := p.arith()
		p.closeParen(t)
		return x
	}
	p.expected("a number, 'len' or a packet access such as 'ip[0]'")
	return nil
}

// load parses "pname[arth]" or "pname[arth:size]".
func (p *parser) load() Arith {
	t := p.next()
	open := p.want(tokLBrack, "'[' after '"+t.Text+"'")
	idx := p.arith()
	size, given := 1, false
	if p.tok().Kind == tokColon {
		p.next()
		s := p.want(tokNum, "a size (1, 2 or 4) after ':'")
		if s.Num != 1 && s.Num != 2 && s.Num != 4 {
			panic(errorAt(p.src, s.Pos, "packet access size must be 1, 2 or 4"))
		}
		size, given = int(s.Num), true
	}
	if p.tok().Kind != tokRBrack {
		p.fail(p.tok().Pos, "expected ']' to close '[' at offset %d, found %s", open.Pos, p.tok().describe())
	}
	end := p.next().End()
	return &Load{Span: Span{t.Pos, end}, Proto: t.Proto, Index: idx, Size: size, SizeGiven: given}
}
