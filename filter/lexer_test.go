package filter

import (
	"fmt"
	"strings"
	"testing"
)

// tokString renders tokens compactly: kind:text, with the value of
// numbers and the canonical word of keywords when they differ.
func tokString(toks []token) string {
	var parts []string
	for _, t := range toks {
		s := fmt.Sprintf("%s:%s", kindName(t.Kind), t.Text)
		switch {
		case t.Kind == tokNum:
			s += fmt.Sprintf("=%d", t.Num)
		case t.Kind == tokIllegal:
			s += "!" + t.Err
		case t.Word != t.Text:
			s += "=" + t.Word
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func kindName(k tokenKind) string {
	switch k {
	case tokEOF:
		return "EOF"
	case tokIllegal:
		return "ERR"
	case tokID:
		return "ID"
	case tokNum:
		return "NUM"
	case tokHID:
		return "HID"
	case tokHID6:
		return "HID6"
	case tokEID:
		return "EID"
	case tokAID:
		return "AID"
	case tokPname:
		return "PNAME"
	}
	if k >= tokLParen && k <= tokGe {
		return "OP"
	}
	return "KW"
}

var lexTests = []struct {
	name, input, want string
}{
	{"empty", "", "EOF:"},
	{"spaces", " \t\r\n", "EOF:"},
	{"keywords", "host net port", "KW:host KW:net KW:port EOF:"},
	{"keyword prefix is a name", "hosts ip4 tcpx", "ID:hosts ID:ip4 ID:tcpx EOF:"},
	{"case sensitive", "HOST Tcp", "ID:HOST ID:Tcp EOF:"},
	{"link aliases", "ether link wlan fddi tr ppp slip", "PNAME:ether PNAME:link=ether PNAME:wlan=ether PNAME:fddi=ether PNAME:tr=ether PNAME:ppp=ether PNAME:slip=ether EOF:"},
	{"hyphenated protos", "es-is is-is", "PNAME:es-is=esis PNAME:is-is=isis EOF:"},
	{"aliases", "direction address1 length lsu ruleset", "KW:direction=dir KW:address1=addr1 KW:length=len KW:lsu=lssu KW:ruleset=rset EOF:"},
	{"logic words", "and or not && || !", "OP:and OP:or OP:not OP:&&=and OP:||=or OP:! EOF:"},
	{"operators", "[]():+-*/%&|^", "OP:[ OP:] OP:( OP:) OP:: OP:+ OP:- OP:* OP:/ OP:% OP:& OP:| OP:^ EOF:"},
	{"two-char operators", "<<>>>=<=!=== =", "OP:<< OP:>> OP:>= OP:<= OP:!= OP:== OP:= EOF:"},
	{"numbers", "0 010 0x1F 0XfF 4294967295", "NUM:0=0 NUM:010=8 NUM:0x1F=31 NUM:0XfF=255 NUM:4294967295=4294967295 EOF:"},
	{"overflow", "4294967296", "ERR:4294967296!number 4294967296 overflows 32 bits"},
	{"hex overflow", "0x100000000", "ERR:0x100000000!number 0x100000000 overflows 32 bits"},
	{"octal overflow", "0040000000000", "ERR:0040000000000!number 0040000000000 overflows 32 bits"},
	{"octal digit", "08", "ERR:08!number 08 contains non-octal digit"},
	{"leading zeros hex", "0x000000000001", "NUM:0x000000000001=1 EOF:"},
	{"number then letters is a name", "10a 0x 0xg 1e5", "ID:10a ID:0x ID:0xg ID:1e5 EOF:"},
	{"named constants", "tcp-syn icmp-echo icmp6-echo tcpflags", "NUM:tcp-syn=2 NUM:icmp-echo=8 NUM:icmp6-echo=128 NUM:tcpflags=13 EOF:"},
	{"longer name beats constant", "tcp-synack icmp-echoreply", "ID:tcp-synack NUM:icmp-echoreply=0 EOF:"},
	{"hid", "1.2 1.2.3 1.2.3.4 0x7f.1", "HID:1.2 HID:1.2.3 HID:1.2.3.4 HID:0x7f.1 EOF:"},
	{"five parts is a name", "1.2.3.4.5", "ID:1.2.3.4.5 EOF:"},
	{"trailing dot name", "1.", "ID:1. EOF:"},
	{"hid then prefix", "10.0.0.0/8", "HID:10.0.0.0 OP:/ NUM:8=8 EOF:"},
	{"ipv6", ":: ::1 1:: fe80::1 1:2:3:4:5:6:7:8", "HID6::: HID6:::1 HID6:1:: HID6:fe80::1 HID6:1:2:3:4:5:6:7:8 EOF:"},
	{"ipv6 v4 tail", "::ffff:1.2.3.4 1:2:3:4:5:6:1.2.3.4", "HID6:::ffff:1.2.3.4 HID6:1:2:3:4:5:6:1.2.3.4 EOF:"},
	{"ipv6 prefix", "fe80::/10", "HID6:fe80:: OP:/ NUM:10=10 EOF:"},
	{"ipv6 longest then rest", "1:2:3:4:5:6:7::8", "HID6:1:2:3:4:5:6:7:: NUM:8=8 EOF:"},
	{"bogus ipv6", "::1.02.3.4", "ERR:::1.02.3.4!bogus IPv6 address ::1.02.3.4"},
	{"mac colon", "0:1:2:3:4:5 aa:bb:cc:dd:ee:ff", "EID:0:1:2:3:4:5 EID:aa:bb:cc:dd:ee:ff EOF:"},
	{"mac dash dot", "aa-bb-cc-dd-ee-ff 1.2.3.4.5.6", "EID:aa-bb-cc-dd-ee-ff EID:1.2.3.4.5.6 EOF:"},
	{"mac groups of four", "0011.2233.4455", "EID:0011.2233.4455 EOF:"},
	{"twelve hex digits", "001122334455 aabbccddeeff", "EID:001122334455 EID:aabbccddeeff EOF:"},
	{"thirteen digits is a number", "0011223344556 0011223344559", "NUM:0011223344556=1246611822 ERR:0011223344559!number 0011223344559 contains non-octal digit"},
	{"bogus mac", "1:2:3", "ERR:1:2:!bogus ethernet address 1:2:"},
	{"nine groups", "1:2:3:4:5:6:7:8:9", "ERR:1:2:3:4:5:6:7:8:!bogus ethernet address 1:2:3:4:5:6:7:8:"},
	{"colon pair is not bogus", "1:2", "NUM:1=1 OP:: NUM:2=2 EOF:"},
	{"arcnet", "$1 $ff $fff", "AID:$1 AID:$ff AID:$ff ID:f EOF:"},
	{"dollar alone", "$", "ERR:$!unexpected character '$'"},
	{"escaped", `\ip \1.2.3.4 \a\b`, `ID:\ip=ip ID:\1.2.3.4=1.2.3.4 ID:\a\b=a\b EOF:`},
	{"escape stops at paren", `\ip)`, `ID:\ip=ip OP:) EOF:`},
	{"lone backslash", `\ `, `ERR:\!unexpected character '\\'`},
	{"names", "a-b a_b a.b x- _x", "ID:a-b ID:a_b ID:a.b ID:x OP:- ERR:_!unexpected character '_'"},
	{"vertical tab is not space", "a\vb", "ID:a ERR:\v!unexpected character '\\v'"},
	{"non-ascii", "é", "ERR:\xc3!unexpected character 'é'"},
	{"load", "tcp[13:1]", "PNAME:tcp OP:[ NUM:13=13 OP:: NUM:1=1 OP:] EOF:"},
}

func TestLex(t *testing.T) {
	for _, tt := range lexTests {
		if got := tokString(lex(tt.input)); got != tt.want {
			t.Errorf("%s: lex(%q) =\n\t%s\nwant\n\t%s", tt.name, tt.input, got, tt.want)
		}
	}
}

func TestLexPositions(t *testing.T) {
	toks := lex("  ip[0] \t!= 0x1f")
	want := []int{2, 4, 5, 6, 9, 12, 16}
	if len(toks) != len(want) {
		t.Fatalf("got %d tokens, want %d", len(toks), len(want))
	}
	for i, tok := range toks {
		if tok.Pos != want[i] {
			t.Errorf("token %d %q at %d, want %d", i, tok.Text, tok.Pos, want[i])
		}
	}
}

// Every keyword and named constant lexes as itself, not as a name.
func TestLexReservedWords(t *testing.T) {
	for w, kw := range keywords {
		toks := lex(w)
		if len(toks) != 2 || toks[0].Kind != kw.kind || toks[0].Word != kw.word {
			t.Errorf("lex(%q) = %s", w, tokString(toks))
		}
	}
	for w, v := range namedConstants {
		toks := lex(w)
		if len(toks) != 2 || toks[0].Kind != tokNum || toks[0].Num != v {
			t.Errorf("lex(%q) = %s", w, tokString(toks))
		}
	}
}
