package filter

import "strconv"

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
		if c := p.tok().Kind; (c == tokOr || c == tokAnd) && p.peek().Kind == other {
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
	case tokID, tokHID, tokHID6, tokEID, tokAID, tokSet, tokNum, tokLParen, tokNot:
	default:
		p.fail(p.tok().Pos, "expected %s after '%s', found %s",
			valueWanted(q), p.prev.Text, p.tok().describe())
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
