package filter

import (
	"strconv"
)

// Parse turns an expression into its AST; an empty or blank expression
// gives a nil Node (match everything). Errors are *Error.
//
// It accepts exactly the language of libpcap 1.10's grammar.y. A bare
// value after "and"/"or" takes the qualifiers of the term before it, as
// libpcap's $<blk>0: "host a or b" is "host a or host b", and a
// parenthesised term passes on the qualifiers in force before its '('.
func Parse(expr string) (node Node, err error) {
	p := &parser{src: expr, toks: lex(expr)}
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

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) tok() token { return p.toks[p.i] }

func (p *parser) peek(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.Kind != tokEOF && t.Kind != tokIllegal {
		p.i++
	}
	return t
}

func (p *parser) prevEnd() int {
	if p.i == 0 {
		return 0
	}
	return p.toks[p.i-1].End()
}

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
		p.fail(t.Pos, "expected a primitive after '%s', found end of expression", p.toks[p.i-1].Text)
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
	case tokID, tokHID, tokHID6, tokEID, tokAID:
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
		if p.peek(1).Kind == tokLBrack && allowed&(allowTerm|allowArith) != 0 {
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
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokNum, tokLParen, tokNot:
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

// rterm parses the terms that begin with a keyword: protocol names and
// qualified values, broadcast/multicast, and libpcap's "other" primitives.
func (p *parser) rterm() (Node, qual) {
	t := p.tok()
	proto := ProtoDefault
	if t.Kind == tokPname {
		proto = p.next().Proto
	}
	switch k := p.tok().Kind; {
	case isHeadStart(k):
		return p.head(t, proto)
	case k == tokBroadcast || k == tokMulticast:
		end := p.next().End()
		if k == tokBroadcast {
			return &Broadcast{Span{t.Pos, end}, proto}, noQual
		}
		return &Multicast{Span{t.Pos, end}, proto}, noQual
	case k == tokType || k == tokSubtype || k == tokDir:
		return p.p80211(), noQual
	case proto != ProtoDefault:
		return &ProtoAbbrev{Span{t.Pos, t.End()}, proto}, noQual
	}
	return p.other(), noQual
}

func isHeadStart(k tokenKind) bool {
	switch k {
	case tokSrc, tokDst, tokAddrQual, tokHost, tokNet, tokPort, tokPortRange,
		tokProto, tokProtochain, tokGateway:
		return true
	}
	return false
}

var addrQuals = map[tokenKind]Addr{
	tokHost: AddrHost, tokNet: AddrNet, tokPort: AddrPort, tokPortRange: AddrPortRange,
}

// head parses "[pqual] dqual [aqual]", "[pqual] aqual", "[pqual] proto",
// "[pqual] protochain" or "[pqual] gateway", then the id they qualify.
func (p *parser) head(start token, proto Proto) (Node, qual) {
	q := Qualifiers{Proto: proto}
	switch t := p.next(); t.Kind {
	case tokSrc, tokDst:
		q.Dir = DirSrc
		other := tokDst
		if t.Kind == tokDst {
			q.Dir, other = DirDst, tokSrc
		}
		if c := p.tok().Kind; (c == tokOr || c == tokAnd) && p.peek(1).Kind == other {
			q.Dir = DirSrcOrDst
			if c == tokAnd {
				q.Dir = DirSrcAndDst
			}
			p.next()
			p.next()
		}
		if a, ok := addrQuals[p.tok().Kind]; ok {
			q.Addr = a
			p.next()
		}
	case tokAddrQual:
		q.Dir = t.Dir
		if a, ok := addrQuals[p.tok().Kind]; ok {
			q.Addr = a
			p.next()
		}
	case tokProto:
		q.Addr = AddrProto
	case tokProtochain:
		q.Addr = AddrProtochain
	case tokGateway:
		q.Addr = AddrGateway
	default:
		q.Addr = addrQuals[t.Kind]
	}
	switch p.tok().Kind {
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokNum, tokLParen, tokNot:
	default:
		p.fail(p.tok().Pos, "expected %s after '%s', found %s",
			valueWanted(q), p.toks[p.i-1].Text, p.tok().describe())
	}
	ctx := qual{q: q, ok: true, written: true, start: start.Pos}
	x, _, _ := p.elem(ctx, allowID)
	return x, ctx.inherited()
}

func valueWanted(q Qualifiers) string {
	switch q.Addr {
	case AddrNet:
		return "a network"
	case AddrPort:
		return "a port number or name"
	case AddrPortRange:
		return "a port range"
	case AddrGateway:
		return "a gateway host name"
	case AddrProto, AddrProtochain:
		return "a protocol number or name"
	}
	return "a host, network or port value"
}

// other parses libpcap's "other", ATM and SS7 primitives.
func (p *parser) other() Node {
	t := p.tok()
	switch t.Kind {
	case tokLess, tokGreater:
		p.next()
		n := p.want(tokNum, "a length after '"+t.Text+"'")
		return &Length{Span{t.Pos, n.End()}, t.Kind == tokGreater, n.Num}
	case tokByte:
		return p.byteOp()
	case tokInbound, tokOutbound:
		p.next()
		return &Direction{Span{t.Pos, t.End()}, t.Kind == tokOutbound}
	case tokIfindex:
		p.next()
		n := p.want(tokNum, "an interface index after 'ifindex'")
		return &Ifindex{Span{t.Pos, n.End()}, n.Num}
	case tokEncap:
		p.next()
		e := &Encap{Span: Span{t.Pos, t.End()}, Keyword: t.Word}
		if t.Word != "pppoed" && (p.tok().Kind == tokNum || p.tok().Kind == tokLParen) {
			n := p.pnum("a number after '" + t.Text + "'")
			e.HasN, e.N, e.To = true, n.V, p.prevEnd()
		}
		return e
	case tokPfIfname, tokPfRset:
		p.next()
		n := p.want(tokID, "a name after '"+t.Text+"'")
		return keywordNode(t, n)
	case tokPfRnr, tokPfSrnr:
		p.next()
		return keywordNode(t, p.want(tokNum, "a rule number after '"+t.Text+"'"))
	case tokPfReason:
		p.next()
		return keywordNode(t, p.wantNumOrID("a reason after 'reason'"))
	case tokPfAction:
		p.next()
		return keywordNode(t, p.want(tokID, "an action name after 'action'"))
	case tokLLC:
		p.next()
		if k := p.tok().Kind; k == tokID || k == tokPfRnr {
			return keywordNode(t, p.next())
		}
		return keywordNode(t)
	case tokAtmType, tokAtmMultiType, tokMtp2Type:
		p.next()
		return keywordNode(t)
	case tokAtmField, tokMtp3Field:
		return p.fieldValue()
	}
	p.unexpected()
	return nil
}

func (p *parser) wantNumOrID(what string) token {
	if k := p.tok().Kind; k != tokNum && k != tokID {
		p.expected(what)
	}
	return p.next()
}

// keywordNode builds a Keyword from its tokens: keywords in their
// canonical spelling, numbers in decimal, names without their escaping
// backslash unless they would then read as something else.
func keywordNode(toks ...token) *Keyword {
	k := &Keyword{Span: Span{toks[0].Pos, toks[len(toks)-1].End()}}
	for _, t := range toks {
		w := t.Word
		if t.Kind == tokNum {
			w = strconv.FormatUint(uint64(t.Num), 10)
			if !k.HasNumber {
				k.HasNumber, k.Number = true, t.Num
			}
		} else if isRelop(t.Kind) {
			w = relops[t.Kind].String()
		} else if t.Kind == tokID && t.Text[0] == '\\' && !isPlainName(w) {
			w = t.Text // "\123", "\subtype": the backslash keeps it a name
		}
		k.Words = append(k.Words, w)
	}
	return k
}

var byteOps = map[tokenKind]byte{tokAmp: '&', tokPipe: '|', tokLt: '<', tokGt: '>', tokEq: '='}

// byteOp parses "byte NUM byteop NUM".
func (p *parser) byteOp() Node {
	t := p.next()
	idx := p.want(tokNum, "a byte offset after 'byte'")
	op, ok := byteOps[p.tok().Kind]
	if !ok {
		p.expected("one of '=', '<', '>', '&', '|' after 'byte " + idx.Text + "'")
	}
	p.next()
	v := p.want(tokNum, "a number")
	return &ByteOp{Span{t.Pos, v.End()}, idx.Num, op, v.Num}
}

// p80211 parses "type T [subtype S]", "subtype S" and "dir D".
func (p *parser) p80211() Node {
	t := p.next()
	switch t.Kind {
	case tokType:
		typ := p.wantNumOrID("an 802.11 type after 'type'")
		if p.tok().Kind == tokSubtype {
			sub := p.next()
			return keywordNode(t, typ, sub, p.wantNumOrID("an 802.11 subtype after 'subtype'"))
		}
		return keywordNode(t, typ)
	case tokSubtype:
		return keywordNode(t, p.want(tokID, "an 802.11 subtype name after 'subtype'"))
	}
	return keywordNode(t, p.wantNumOrID("a direction after '"+t.Text+"'"))
}

// fieldValue parses an ATM or SS7 field test: "vpi N", "vpi > N",
// "vpi (N or N ...)"; a list becomes an Or of single tests.
func (p *parser) fieldValue() Node {
	f := p.next()
	switch k := p.tok().Kind; {
	case k == tokNum:
		return keywordNode(f, p.next())
	case isRelop(k):
		op := p.next()
		return keywordNode(f, op, p.want(tokNum, "a number after '"+op.Text+"'"))
	case k == tokLParen:
		open := p.next()
		var x Node = keywordNode(f, p.want(tokNum, "a number"))
		for p.tok().Kind == tokOr {
			p.next()
			x = combine(token{Kind: tokOr}, x, keywordNode(f, p.want(tokNum, "a number after 'or'")))
		}
		p.closeParen(open)
		return x
	}
	p.expected("a number or a comparison after '" + f.Text + "'")
	return nil
}

// isPlainName reports whether w reads back as the name w.
func isPlainName(w string) bool {
	toks := lex(w)
	return len(toks) == 2 && toks[0].Kind == tokID && toks[0].Text == w && toks[0].Word == w
}
