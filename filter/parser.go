package filter

// Parse turns an expression into its AST; an empty or blank expression
// gives a nil Node (match everything). Errors are *Error.
//
// It accepts exactly the language of libpcap 1.10's grammar.y. A bare
// value after "and"/"or" takes the qualifiers of the term before it, as
// libpcap's $<blk>0: "host a or b" is "host a or host b", and a
// parenthesised term passes on the qualifiers in force before its '('.
func Parse(expr string) (node Node, err error) {
	p := newParser(expr)
	if p.tok().Kind == tokEOF {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			node, err = nil, e
		}
	}()
	node, _ = p.expr(noQual)
	switch t := p.tok(); t.Kind {
	case tokEOF:
	case tokRParen:
		p.fail(t.Pos, "unexpected ')' without a matching '('")
	default:
		p.expected("'and' or 'or'")
	}
	return node, nil
}

// qual is what a bare value inherits: the qualifiers of the term before
// it, or none (libpcap's qerr) after a term that has no qualifiers.
type qual struct {
	q  Qualifiers
	ok bool
	// written is true for the value right after the qualifiers ("a" in
	// "host a"), false for values that inherit them.
	written bool
	start   int // offset of the written qualifiers
}

var noQual = qual{}

func (c qual) inherited() qual { c.written = false; return c }

// allow is a set of the grammar's alternatives a position admits.
type allow uint8

const (
	allowTerm  allow = 1 << iota // a term: primitive, relation, "(expr)"...
	allowID                      // a bare id: value, number, "not id", "(pid)"
	allowNid                     // a value, number or "not id" (a pid's first id)
	allowArith                   // an arithmetic operand ("(narth)")
	allowPnum                    // only a number, maybe in parentheses
)

// unitKind says what a unit turned out to be; numbers and arithmetic stay
// open until the token after them decides between value and relation.
type unitKind int

const (
	unitBool unitKind = iota
	unitNum
	unitArith
)

type unit struct {
	kind  unitKind
	node  Node
	q     qual
	isID  bool // an id (nid, pnum, "(pid)") rather than a term
	num   *Num
	text  string // the number as written
	arith Arith
}

// parser reads tokens as it goes: the grammar looks one token past the
// current one, and messages quote the one before it (prev, the zero
// token at the start).
type parser struct {
	src              string
	lx               lexer
	prev, cur, ahead token
}

func newParser(expr string) *parser {
	p := &parser{src: expr, lx: lexer{src: expr}}
	p.cur = p.lx.next()
	p.ahead = p.lx.next()
	return p
}

func (p *parser) tok() token { return p.cur }

// peek returns the token after the current one; past the end, the last
// token.
func (p *parser) peek() token { return p.ahead }

func (p *parser) next() token {
	t := p.cur
	if t.Kind != tokEOF && t.Kind != tokIllegal {
		p.prev, p.cur, p.ahead = t, p.ahead, p.lx.next()
	}
	return t
}

func (p *parser) prevEnd() int { return p.prev.End() }

// fail stops parsing with an error at pos; a lexical error at the current
// token wins, as libpcap's scanner reports it before the parser sees it.
func (p *parser) fail(pos int, format string, args ...any) {
	if t := p.tok(); t.Kind == tokIllegal {
		panic(errorAt(p.src, t.Pos, "%s", t.Err))
	}
	panic(errorAt(p.src, pos, format, args...))
}

func (p *parser) unexpected() {
	t := p.tok()
	if t.Kind == tokEOF {
		p.fail(t.Pos, "expected a primitive after '%s', found end of expression", p.prev.Text)
	}
	p.fail(t.Pos, "unexpected %s", t.describe())
}

func (p *parser) expected(what string) {
	p.fail(p.tok().Pos, "expected %s, found %s", what, p.tok().describe())
}

func (p *parser) want(kind tokenKind, what string) token {
	if p.tok().Kind != kind {
		p.expected(what)
	}
	return p.next()
}

func (p *parser) closeParen(open token) {
	if p.tok().Kind != tokRParen {
		p.fail(p.tok().Pos, "expected ')' to close '(' at offset %d, found %s",
			open.Pos, p.tok().describe())
	}
	p.next()
}

// expr parses "term { (and|or) (term|id) }" with and/or of equal
// precedence, left-associative.
func (p *parser) expr(ctx qual) (Node, qual) {
	x, q, _ := p.elem(ctx, allowTerm)
	return p.exprRest(x, q)
}

func (p *parser) exprRest(x Node, q qual) (Node, qual) {
	for p.tok().Kind == tokAnd || p.tok().Kind == tokOr {
		op := p.next()
		if k := p.tok().Kind; k == tokEOF || k == tokRParen || k == tokAnd || k == tokOr {
			p.fail(p.tok().Pos, "expected a primitive after '%s', found %s", op.Text, p.tok().describe())
		}
		y, q2, _ := p.elem(q.inherited(), allowTerm|allowID)
		x, q = combine(op, x, y), q2
	}
	return x, q
}

func combine(op token, x, y Node) Node {
	span := Span{x.Pos(), y.End()}
	if op.Kind == tokAnd {
		return &And{span, x, y}
	}
	return &Or{span, x, y}
}

// elem parses a term or id (as allowed) and settles a leading number or
// arithmetic into a value or a relation.
func (p *parser) elem(ctx qual, allowed allow) (Node, qual, bool) {
	inner := allowed
	if allowed&allowTerm != 0 {
		inner |= allowArith
	}
	return p.settle(p.unit(ctx, inner), ctx, allowed)
}

func (p *parser) settle(u unit, ctx qual, allowed allow) (Node, qual, bool) {
	switch u.kind {
	case unitNum:
		if allowed&allowTerm != 0 && (isArithOp(p.tok().Kind) || isRelop(p.tok().Kind)) {
			return p.relation(p.arithFrom(u.num)), noQual, false
		}
		if allowed&(allowID|allowNid) != 0 {
			return p.numValue(u, ctx), ctx, true
		}
		p.expected(comparison)
	case unitArith:
		return p.relation(p.arithFrom(u.arith)), noQual, false
	}
	return u.node, u.q, u.isID
}

// unit parses what may begin at the current token under allowed.
func (p *parser) unit(ctx qual, allowed allow) unit {
	t := p.tok()
	switch t.Kind {
	case tokNot:
		if allowed&(allowTerm|allowID|allowNid) == 0 {
			p.unexpected()
		}
		p.next()
		var inner allow
		if allowed&allowTerm != 0 {
			inner |= allowTerm
		}
		if allowed&(allowID|allowNid) != 0 {
			inner |= allowID
		}
		x, q, isID := p.elem(ctx, inner)
		return unit{node: &Not{Span{t.Pos, x.End()}, x}, q: q, isID: isID}
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokSet:
		if allowed&(allowID|allowNid) == 0 {
			p.fail(t.Pos, "unexpected %s: a value needs a qualifier such as 'host' before it", t.describe())
		}
		return unit{node: p.value(ctx), q: ctx, isID: true}
	case tokNum:
		p.next()
		return unit{kind: unitNum, num: numNode(t), text: t.Text}
	case tokLParen:
		return p.paren(ctx, allowed)
	case tokMinus, tokLen:
		if allowed&(allowTerm|allowArith) == 0 {
			p.unexpected()
		}
		return unit{kind: unitArith, arith: p.unary()}
	case tokPname:
		if p.peek().Kind == tokLBrack && allowed&(allowTerm|allowArith) != 0 {
			return unit{kind: unitArith, arith: p.unary()}
		}
	}
	if allowed&allowTerm == 0 {
		p.unexpected()
	}
	n, q := p.rterm()
	return unit{node: n, q: q}
}

// paren parses a parenthesised unit: "(expr)" (passing on ctx, as
// libpcap's paren: '(' { $$ = $<blk>0; }), "(pid)", "(pnum)" or "(narth)".
func (p *parser) paren(ctx qual, allowed allow) unit {
	open := p.next()
	var inner allow
	if allowed&allowID != 0 {
		inner |= allowNid
	}
	if allowed&(allowNid|allowPnum) != 0 {
		inner |= allowPnum
	}
	if allowed&allowTerm != 0 {
		inner |= allowTerm | allowArith
	}
	if allowed&allowArith != 0 {
		inner |= allowArith
	}
	u := p.unit(ctx, inner)
	switch u.kind {
	case unitNum:
		k := p.tok().Kind
		switch {
		case k == tokRParen:
			p.next()
			return u
		case (k == tokAnd || k == tokOr) && inner&allowNid != 0:
			x := p.pidRest(p.numValue(u, ctx), ctx)
			p.closeParen(open)
			return unit{node: x, q: ctx, isID: true}
		case (isArithOp(k) || isRelop(k)) && inner&(allowArith|allowTerm) != 0:
			return p.parenArith(open, p.arithFrom(u.num), ctx, inner)
		}
		p.closeParen(open)
	case unitArith:
		return p.parenArith(open, p.arithFrom(u.arith), ctx, inner)
	}
	if u.isID {
		x := p.pidRest(u.node, ctx)
		p.closeParen(open)
		return unit{node: x, q: ctx, isID: true}
	}
	x, _ := p.exprRest(u.node, u.q)
	p.closeParen(open)
	return unit{node: x, q: ctx}
}

// parenArith finishes "(narth)" or "(arth relop arth ...)".
func (p *parser) parenArith(open token, a Arith, ctx qual, inner allow) unit {
	if p.tok().Kind == tokRParen && inner&allowArith != 0 {
		p.next()
		return unit{kind: unitArith, arith: a}
	}
	if inner&allowTerm == 0 {
		p.closeParen(open)
	}
	x, _ := p.exprRest(p.relation(a), noQual)
	p.closeParen(open)
	return unit{node: x, q: ctx}
}

// pidRest parses "{ (and|or) id }" inside "(pid)"; every id inherits ctx.
func (p *parser) pidRest(x Node, ctx qual) Node {
	for p.tok().Kind == tokAnd || p.tok().Kind == tokOr {
		op := p.next()
		x = combine(op, x, p.id(ctx.inherited()))
	}
	return x
}

// id parses a bare id: a value, a number, "not id" or "(pid)".
func (p *parser) id(ctx qual) Node {
	switch p.tok().Kind {
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokSet, tokNum, tokLParen, tokNot:
	default:
		p.fail(p.tok().Pos, "expected a value, found %s", p.tok().describe())
	}
	x, _, _ := p.elem(ctx, allowID)
	return x
}

func numNode(t token) *Num {
	n := &Num{Span: Span{t.Pos, t.End()}, V: t.Num}
	if !isDigit(t.Text[0]) {
		n.Name = t.Text // a named constant
	}
	return n
}

// needQual fails when a bare value has nothing to inherit, as libpcap
// does when $<blk>0 holds qerr.
func (p *parser) needQual(ctx qual, pos int, text string) {
	if !ctx.ok {
		panic(errorAt(p.src, pos, "missing qualifier before '%s': the term before it has none to inherit (write e.g. 'host %s')", text, text))
	}
}

func (p *parser) primitive(ctx qual, v Value, pos, end int) *Primitive {
	p.needQual(ctx, pos, p.src[pos:end])
	start := pos
	if ctx.written {
		start = ctx.start
	}
	return &Primitive{Span: Span{start, end}, Q: ctx.q, Value: v, ValuePos: pos, Inherited: !ctx.written}
}

func (p *parser) numValue(u unit, ctx qual) Node {
	v := Value{Kind: ValueNumber, Text: u.text, Number: u.num.V, Prefix: -1}
	return p.primitive(ctx, v, u.num.Pos(), u.num.End())
}

// value parses libpcap's nid values: ID, HID["/"NUM | "mask" HID],
// HID6["/"NUM], EID, AID.
func (p *parser) value(ctx qual) Node {
	t := p.next()
	v := Value{Text: t.Text, Prefix: -1}
	switch t.Kind {
	case tokID:
		v.Kind, v.Text, v.Escaped = ValueName, t.Word, t.Text[0] == '\\'
	case tokHID, tokHID6:
		v.Kind = ValueHost
		if t.Kind == tokHID6 {
			v.Kind = ValueHost6
		}
		if p.tok().Kind == tokSlash {
			p.next()
			v.Prefix = int(p.want(tokNum, "a prefix length after '/'").Num)
		} else if p.tok().Kind == tokMask && t.Kind == tokHID {
			p.next()
			v.Mask = p.want(tokHID, "a dotted netmask after 'mask'").Text
		}
	case tokEID:
		v.Kind = ValueMAC
	case tokAID:
		v.Kind = ValueArcnet
	case tokSet:
		v.Kind, v.Text = ValueSet, t.Word
	}
	return p.primitive(ctx, v, t.Pos, p.prevEnd())
}

// pnum parses NUM or "(pnum)".
func (p *parser) pnum(what string) *Num {
	if p.tok().Kind == tokLParen {
		open := p.next()
		n := p.pnum(what)
		p.closeParen(open)
		return n
	}
	return numNode(p.want(tokNum, what))
}
