package filter

import (
	"fmt"
	"net/netip"
	"unicode/utf8"
)

// The scanner mirrors libpcap 1.10's scanner.l: at each position every
// rule is tried, the longest match wins and, among equally long matches,
// the rule listed first in scanner.l. The rules are numbered in that order.
const (
	ruleKeyword = iota // reserved words, "&&", "||"
	ruleSpace
	ruleOperator // one- and two-character operators
	ruleAID
	ruleMAC
	ruleNumber
	ruleHID
	ruleHID6
	ruleBogusMAC
	ruleConstant // named constants: "tcp-syn", "icmp-echo"...
	ruleID
	ruleEscapedID
	ruleSet // "@name": a set of values, weir's own
	ruleAny // any other byte: a lexical error
)

// lex splits expr into tokens, ending with tokEOF, or with tokIllegal at
// the first lexical error.
func lex(expr string) []token {
	var toks []token
	for l := (lexer{src: expr}); ; {
		tok := l.next()
		toks = append(toks, tok)
		if tok.Kind == tokEOF || tok.Kind == tokIllegal {
			return toks
		}
	}
}

// lexer hands out the tokens of src one at a time, so that the parser
// needs no list of them. After tokEOF or tokIllegal it repeats that token.
type lexer struct {
	src  string
	pos  int
	done bool
	last token
}

func (l *lexer) next() token {
	if l.done {
		return l.last
	}
	for {
		tok, n := scan(l.src, l.pos)
		if n == 0 {
			l.done, l.last = true, token{Kind: tokEOF, Pos: len(l.src)}
			return l.last
		}
		l.pos += n
		if tok.Kind == tokEOF { // whitespace
			continue
		}
		if tok.Kind == tokIllegal {
			l.done, l.last = true, tok
		}
		return tok
	}
}

// scan reads the token at pos; n is its length including, for
// whitespace (returned as tokEOF), nothing else. n is 0 at the end.
func scan(s string, pos int) (tok token, n int) {
	if pos >= len(s) {
		return token{}, 0
	}
	rest := s[pos:]
	best, rule := 0, ruleAny
	try := func(r, length int) {
		if length > best {
			best, rule = length, r
		}
	}
	idLen := matchID(rest)
	if _, ok := keywords[rest[:idLen]]; ok && idLen > 0 {
		try(ruleKeyword, idLen)
	}
	if len(rest) >= 2 && (rest[:2] == "&&" || rest[:2] == "||") {
		try(ruleKeyword, 2)
	}
	switch rest[0] {
	case ' ', '\r', '\n', '\t':
		try(ruleSpace, 1)
	}
	try(ruleOperator, matchOperator(rest))
	try(ruleAID, matchAID(rest))
	try(ruleMAC, matchMAC(rest))
	try(ruleNumber, matchNumber(rest))
	try(ruleHID, matchHID(rest))
	try(ruleHID6, matchHID6(rest))
	try(ruleBogusMAC, matchBogusMAC(rest))
	if _, ok := namedConstants[rest[:idLen]]; ok && idLen > 0 {
		try(ruleConstant, idLen)
	}
	try(ruleID, idLen)
	try(ruleEscapedID, matchEscapedID(rest))
	try(ruleSet, matchSet(rest))
	if best == 0 {
		best = 1
	}
	text := rest[:best]
	tok = token{Pos: pos, Text: text, Word: text}
	switch rule {
	case ruleSpace:
		tok.Kind = tokEOF
	case ruleKeyword:
		tok.Kind, tok.Word = tokAnd, "and"
		if text == "||" {
			tok.Kind, tok.Word = tokOr, "or"
		}
		if kw, ok := keywords[text]; ok {
			tok.Kind, tok.Word, tok.Proto, tok.Dir = kw.kind, kw.word, kw.proto, kw.dir
		}
	case ruleOperator:
		tok.Kind = operators[text]
	case ruleAID:
		tok.Kind = tokAID
	case ruleMAC:
		tok.Kind = tokEID
	case ruleNumber:
		tok.Kind = tokNum
		v, err := parseNumber(text)
		if err != "" {
			tok.Kind, tok.Err = tokIllegal, err
		}
		tok.Num = v
	case ruleHID:
		tok.Kind = tokHID
	case ruleHID6:
		tok.Kind = tokHID6
		if _, err := netip.ParseAddr(text); err != nil {
			tok.Kind, tok.Err = tokIllegal, "bogus IPv6 address "+text
		}
	case ruleBogusMAC:
		tok.Kind, tok.Err = tokIllegal, "bogus ethernet address "+text
	case ruleConstant:
		tok.Kind, tok.Num = tokNum, namedConstants[text]
	case ruleID:
		tok.Kind = tokID
	case ruleEscapedID:
		tok.Kind, tok.Word = tokID, text[1:]
	case ruleSet:
		tok.Kind, tok.Word = tokSet, text[1:]
	default:
		r, _ := utf8.DecodeRuneInString(rest)
		tok.Kind, tok.Err = tokIllegal, fmt.Sprintf("unexpected character %q", r)
	}
	return tok, best
}

var operators = map[string]tokenKind{
	"+": tokPlus, "-": tokMinus, "*": tokStar, "/": tokSlash, "%": tokPercent,
	":": tokColon, "[": tokLBrack, "]": tokRBrack, "!": tokNot, "<": tokLt,
	">": tokGt, "(": tokLParen, ")": tokRParen, "&": tokAmp, "|": tokPipe,
	"^": tokCaret, "=": tokEq,
	">=": tokGe, "<=": tokLe, "!=": tokNe, "==": tokEq, "<<": tokLsh, ">>": tokRsh,
}

func matchOperator(s string) int {
	if len(s) >= 2 {
		if _, ok := operators[s[:2]]; ok {
			return 2
		}
	}
	if _, ok := operators[s[:1]]; ok {
		return 1
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAlnum(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// matchID matches [A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?
func matchID(s string) int {
	if len(s) == 0 || !isAlnum(s[0]) {
		return 0
	}
	n := 1
	for i := 1; i < len(s); i++ {
		c := s[i]
		if isAlnum(c) || c == '.' {
			n = i + 1
		} else if c != '-' && c != '_' {
			break
		}
	}
	return n
}

// matchSet matches "@" and a name.
func matchSet(s string) int {
	if s[0] != '@' {
		return 0
	}
	if n := matchID(s[1:]); n > 0 {
		return 1 + n
	}
	return 0
}

// matchEscapedID matches "\" followed by characters other than space,
// '!', '(', ')', newline and tab.
func matchEscapedID(s string) int {
	if s[0] != '\\' {
		return 0
	}
	i := 1
	for i < len(s) {
		switch s[i] {
		case ' ', '!', '(', ')', '\n', '\t':
			return endEscaped(i)
		}
		i++
	}
	return endEscaped(i)
}

func endEscaped(i int) int {
	if i == 1 {
		return 0
	}
	return i
}

// hexRun counts the hex digits at the start of s, up to max.
func hexRun(s string, max int) int {
	n := 0
	for n < len(s) && n < max && isHex(s[n]) {
		n++
	}
	return n
}

// matchAID matches "$" and one or two hex digits.
func matchAID(s string) int {
	if s[0] != '$' {
		return 0
	}
	if n := hexRun(s[1:], 2); n > 0 {
		return 1 + n
	}
	return 0
}

// matchMAC matches the scanner's MAC forms: six groups of one or two hex
// digits separated by ':', '-' or '.', "xxxx.xxxx.xxxx", or twelve hex
// digits in a row.
func matchMAC(s string) int {
	best := 0
	for _, sep := range []byte{':', '-', '.'} {
		i, ok := 0, true
		for g := 0; g < 6 && ok; g++ {
			n := hexRun(s[i:], 2)
			if n == 0 {
				ok = false
				break
			}
			i += n
			if g < 5 {
				if i >= len(s) || s[i] != sep {
					ok = false
					break
				}
				i++
			}
		}
		if ok && i > best {
			best = i
		}
	}
	if len(s) >= 14 && hexRun(s, 4) == 4 && s[4] == '.' && hexRun(s[5:], 4) == 4 &&
		s[9] == '.' && hexRun(s[10:], 4) == 4 && best < 14 {
		best = 14
	}
	if hexRun(s, 12) == 12 && best < 12 {
		best = 12
	}
	return best
}

// matchNumber matches [0-9]+ or 0[xX][0-9A-Fa-f]+.
func matchNumber(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		if h := hexRun(s[2:], len(s)); h > 0 && 2+h > n {
			return 2 + h
		}
	}
	return n
}

// matchHID matches two to four numbers joined by dots.
func matchHID(s string) int {
	end, parts := 0, 0
	for i := 0; parts < 4; {
		n := matchNumber(s[i:])
		if n == 0 {
			break
		}
		parts++
		end = i + n
		if end >= len(s) || s[end] != '.' {
			break
		}
		i = end + 1
	}
	if parts < 2 {
		return 0
	}
	return end
}

// matchBogusMAC matches {B}:+({B}:+)+, colon-separated hex that is neither
// a MAC nor an IPv6 address; the scanner reports it as an error.
func matchBogusMAC(s string) int {
	i, groups := 0, 0
	for {
		n := hexRun(s[i:], 2)
		if n == 0 || i+n >= len(s) || s[i+n] != ':' {
			break
		}
		j := i + n
		for j < len(s) && s[j] == ':' {
			j++
		}
		i, groups = j, groups+1
	}
	if groups < 2 {
		return 0
	}
	return i
}

// parseNumber converts a number as libpcap's stoulen does: 0x hex,
// leading-0 octal or decimal, failing beyond 32 bits.
func parseNumber(text string) (uint32, string) {
	var v uint64
	base, digits := uint64(10), text
	switch {
	case len(text) > 1 && (text[1] == 'x' || text[1] == 'X'):
		base, digits = 16, text[2:]
	case text[0] == '0':
		base, digits = 8, text[1:]
	}
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		var d uint64
		switch {
		case isDigit(c):
			d = uint64(c - '0')
		case 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		default:
			d = uint64(c-'A') + 10
		}
		if d >= base {
			return 0, fmt.Sprintf("number %s contains non-octal digit", text)
		}
		v = v*base + d
		if v > 0xffffffff {
			return 0, fmt.Sprintf("number %s overflows 32 bits", text)
		}
	}
	return uint32(v), ""
}

// The IPv6 patterns of the scanner: h groups of 1-4 hex digits with an
// optional "::" after group c, optionally ending in a dotted IPv4 address.
type v6Pattern struct {
	groups, gap int // gap < 0: no "::"
	ipv4        bool
}

var v6Patterns = func() []v6Pattern {
	var ps []v6Pattern
	for _, ipv4 := range []bool{false, true} {
		full, maxGap := 8, 7
		if ipv4 {
			full, maxGap = 6, 5
		}
		ps = append(ps, v6Pattern{groups: full, gap: -1, ipv4: ipv4})
		for h := 0; h <= maxGap; h++ {
			for c := 0; c <= h; c++ {
				ps = append(ps, v6Pattern{groups: h, gap: c, ipv4: ipv4})
			}
		}
	}
	return ps
}()

// matchHID6 returns the longest match of any IPv6 pattern.
func matchHID6(s string) int {
	// Every pattern has a ':' after at most one group of four hex digits.
	if first := hexRun(s, 4); first >= len(s) || s[first] != ':' {
		return 0
	}
	best := 0
	for _, p := range v6Patterns {
		for _, end := range p.match(s) {
			if end > best {
				best = end
			}
		}
	}
	return best
}

// match returns every offset at which a match of p can end.
func (p v6Pattern) match(s string) []int {
	ends := []int{0}
	for g := 0; g < p.groups; g++ {
		switch {
		case g == p.gap:
			ends = matchLit(s, ends, "::")
		case g > 0:
			ends = matchLit(s, ends, ":")
		}
		ends = matchRun(s, ends, func(t string) []int { return hexLens(t, 4) })
	}
	if p.gap == p.groups {
		ends = matchLit(s, ends, "::")
	}
	if p.ipv4 {
		if p.groups > p.gap {
			ends = matchLit(s, ends, ":")
		}
		for i := 0; i < 4; i++ {
			if i > 0 {
				ends = matchLit(s, ends, ".")
			}
			ends = matchRun(s, ends, numberLens)
		}
	}
	return ends
}

func matchLit(s string, ends []int, lit string) []int {
	var out []int
	for _, e := range ends {
		if len(s)-e >= len(lit) && s[e:e+len(lit)] == lit {
			out = append(out, e+len(lit))
		}
	}
	return out
}

func matchRun(s string, ends []int, lens func(string) []int) []int {
	var out []int
	for _, e := range ends {
		for _, n := range lens(s[e:]) {
			out = append(out, e+n)
		}
	}
	return out
}

// hexLens lists the lengths 1..max of hex-digit prefixes of s.
func hexLens(s string, max int) []int {
	var out []int
	for n := 1; n <= hexRun(s, max); n++ {
		out = append(out, n)
	}
	return out
}

// numberLens lists the lengths of every prefix of s that {N} matches.
func numberLens(s string) []int {
	var out []int
	for n := 1; n <= len(s) && isDigit(s[n-1]); n++ {
		out = append(out, n)
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for n := 1; n <= hexRun(s[2:], len(s)); n++ {
			out = append(out, 2+n)
		}
	}
	return out
}
