package filter

import (
	"bufio"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// The syntax golden records, for each expression, what libpcap 1.10.3's
// parser makes of it (tcpdump -O -d -y LINKTYPE EXPR):
//
//	accept    tcpdump compiles it for some link type
//	reject    a syntax or lexical error ("syntax error", "overflows 32 bits"...)
//	semantic  every link type fails with an error from code generation
//	          ("unknown host", "data size must be 1, 2, or 4"...)
//
// `go test ./filter -run Golden -update` re-asks tcpdump for every row;
// `-add FILE` first appends the expressions of FILE (one per line, Go
// quoted if it has tabs or newlines). The canonical golden holds String()
// of every expression Parse accepts; -update checks that tcpdump compiles
// the canonical form of each accepted row to the very same program.
var addFile = flag.String("add", "", "with -update: file of expressions to add to the syntax golden")

const (
	syntaxGolden    = "testdata/parse/syntax.tsv"
	canonicalGolden = "testdata/parse/canonical.tsv"
)

// goldenLinkTypes are tried in order until one compiles the expression, so
// that link-specific primitives ("wlan type mgt", "on eth0", "vpi 1") count
// as accepted.
var goldenLinkTypes = []string{"EN10MB", "IEEE802_11", "IEEE802_11_RADIO", "PFLOG", "SUNATM", "MTP2", "ARCNET", "LINUX_SLL2"}

// lexicalErrors are scanner messages: rejections before the grammar.
var lexicalErrors = []string{"syntax error", "overflows 32 bits", "contains non-octal digit",
	"contains non-hex digit", "contains non-decimal digit", "bogus ethernet address", "bogus IPv6 address"}

type syntaxRow struct {
	expr, verdict, note string
}

// quoteField writes an expression so that a TSV line holds it: Go quoted
// when it has characters a line or a field cannot carry.
func quoteField(s string) string {
	if strings.ContainsAny(s, "\t\n\r\v\f") || strings.HasPrefix(s, `"`) || strings.TrimSpace(s) != s {
		return strconv.Quote(s)
	}
	return s
}

func unquoteField(s string) (string, error) {
	if strings.HasPrefix(s, `"`) {
		return strconv.Unquote(s)
	}
	return s, nil
}

func readSyntaxGolden(t *testing.T) []syntaxRow {
	t.Helper()
	f, err := os.Open(syntaxGolden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []syntaxRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 2 {
			t.Fatalf("%s: bad line %q", syntaxGolden, sc.Text())
		}
		expr, err := unquoteField(fields[0])
		if err != nil {
			t.Fatalf("%s: %v in %q", syntaxGolden, err, fields[0])
		}
		row := syntaxRow{expr: expr, verdict: fields[1]}
		if len(fields) > 2 {
			row.note = fields[2]
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// deliberateReject reports whether Parse rejects, on purpose, an
// expression libpcap rejects only in code generation: a bare value after a
// term without qualifiers (libpcap: "syntax error in filter expression",
// "Mask syntax for networks only", "ethernet address used in non-ether
// expression"...) and a packet access size other than 1, 2 or 4.
func deliberateReject(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "missing qualifier before") ||
		strings.Contains(msg, "packet access size must be 1, 2 or 4")
}

func TestSyntaxGolden(t *testing.T) {
	if testutil.Update() {
		updateSyntaxGolden(t)
	}
	rows := readSyntaxGolden(t)
	if len(rows) < 1000 {
		t.Fatalf("%s has only %d rows", syntaxGolden, len(rows))
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.verdict]++
		_, err := Parse(r.expr)
		switch r.verdict {
		case "accept":
			if err != nil {
				t.Errorf("Parse(%q): %v; libpcap accepts it %s", r.expr, err, r.note)
			}
		case "reject":
			if err == nil {
				t.Errorf("Parse(%q) succeeded; libpcap: %s", r.expr, r.note)
			}
		case "semantic":
			if err != nil && !deliberateReject(err) {
				t.Errorf("Parse(%q): %v; libpcap parses it and fails later: %s", r.expr, err, r.note)
			}
		default:
			t.Errorf("bad verdict %q for %q", r.verdict, r.expr)
		}
	}
	t.Logf("%d rows: %v", len(rows), counts)
}

func updateSyntaxGolden(t *testing.T) {
	testutil.RequireTool(t, "tcpdump", "tcpdump")
	var exprs []string
	seen := map[string]bool{}
	add := func(e string) {
		if !seen[e] {
			seen[e] = true
			exprs = append(exprs, e)
		}
	}
	if _, err := os.Stat(syntaxGolden); err == nil {
		for _, r := range readSyntaxGolden(t) {
			add(r.expr)
		}
	}
	if *addFile != "" {
		data, err := os.ReadFile(*addFile)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
			e, err := unquoteField(line)
			if err != nil {
				t.Fatalf("%s: %v in %q", *addFile, err, line)
			}
			add(e)
		}
	}
	rows := make([]syntaxRow, len(exprs))
	parallel(len(exprs), func(i int) { rows[i] = classify(t, exprs[i]) })
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(quoteField(r.expr) + "\t" + r.verdict + "\t" + r.note + "\n")
	}
	writeGolden(t, syntaxGolden, b.String())
}

// classify asks tcpdump what libpcap's parser makes of expr.
func classify(t *testing.T, expr string) syntaxRow {
	first := ""
	for _, lt := range goldenLinkTypes {
		out, ok := tcpdumpProgram(t, lt, expr)
		if ok {
			note := ""
			if lt != goldenLinkTypes[0] {
				note = "with -y " + lt
			}
			return syntaxRow{expr, "accept", note}
		}
		for _, m := range lexicalErrors {
			if strings.Contains(out, m) {
				return syntaxRow{expr, "reject", out}
			}
		}
		if first == "" {
			first = out
		}
	}
	return syntaxRow{expr, "semantic", first}
}

// tcpdumpProgram returns tcpdump's unoptimized program for expr, or its
// error message. Host names never reach the network: as root it runs in a
// fresh network namespace.
func tcpdumpProgram(t *testing.T, linkType, expr string) (string, bool) {
	args := []string{"tcpdump", "-O", "-d", "-y", linkType, "--", expr}
	if os.Geteuid() == 0 {
		if _, err := exec.LookPath("unshare"); err == nil {
			args = append([]string{"unshare", "-n"}, args...)
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		return strings.TrimPrefix(msg, "tcpdump: "), false
	}
	return stdout.String(), true
}

func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			f(i)
			<-sem
		}()
	}
	wg.Wait()
}

func writeGolden(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCanonicalGolden pins String() of every expression Parse accepts.
// Under -update it is regenerated, and each accepted row's canonical form
// must compile, in tcpdump, to the program of the original expression: the
// tree has libpcap's shape (precedence, inheritance, arithmetic).
func TestCanonicalGolden(t *testing.T) {
	rows := readSyntaxGolden(t)
	if testutil.Update() {
		updateCanonicalGolden(t, rows)
	}
	data, err := os.ReadFile(canonicalGolden)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.Split(line, "\t")
		expr, err := unquoteField(f[0])
		if err != nil || len(f) != 2 {
			t.Fatalf("%s: bad line %q", canonicalGolden, line)
		}
		canon, err := unquoteField(f[1])
		if err != nil {
			t.Fatalf("%s: bad line %q", canonicalGolden, line)
		}
		want[expr] = canon
	}
	checked := 0
	for _, r := range rows {
		n, err := Parse(r.expr)
		if err != nil || n == nil {
			continue
		}
		checked++
		w, ok := want[r.expr]
		if !ok {
			t.Errorf("%q missing from %s (run with -update)", r.expr, canonicalGolden)
			continue
		}
		if got := n.String(); got != w {
			t.Errorf("Parse(%q).String() = %q, want %q", r.expr, got, w)
		}
	}
	if checked < 800 {
		t.Errorf("only %d canonical rows checked", checked)
	}
}

func updateCanonicalGolden(t *testing.T, rows []syntaxRow) {
	testutil.RequireTool(t, "tcpdump", "tcpdump")
	lines := make([]string, len(rows))
	parallel(len(rows), func(i int) {
		r := rows[i]
		n, err := Parse(r.expr)
		if err != nil || n == nil {
			return
		}
		canon := n.String()
		lines[i] = quoteField(r.expr) + "\t" + quoteField(canon) + "\n"
		if r.verdict != "accept" {
			return
		}
		lt := goldenLinkTypes[0]
		if s, ok := strings.CutPrefix(r.note, "with -y "); ok {
			lt = s
		}
		orig, _ := tcpdumpProgram(t, lt, r.expr)
		got, ok := tcpdumpProgram(t, lt, canon)
		if !ok || got != orig {
			t.Errorf("canonical form of %q is %q, which tcpdump -y %s compiles differently:\n%s\nwant:\n%s",
				r.expr, canon, lt, got, orig)
		}
	})
	writeGolden(t, canonicalGolden, strings.Join(lines, ""))
}

// parseTests pin the canonical String() of expressions, in the style of
// text/template/parse: fully parenthesised, every qualifier explicit.
var parseTests = []struct {
	name, input, want string
}{
	{"empty", "", "<nil>"},
	{"blank", " \t\n", "<nil>"},
	{"proto", "tcp", "tcp"},
	{"link alias", "wlan", "ether"},
	{"escaped proto", `ether proto \ip`, `ether proto \ip`},
	{"host", "host 10.0.0.1", "host 10.0.0.1"},
	{"dir", "src 10.0.0.1", "src 10.0.0.1"},
	{"src or dst", "ip src or dst host 10.0.0.1", "ip src or dst host 10.0.0.1"},
	{"dst and src", "dst and src net 10.1", "src and dst net 10.1"},
	{"prefix", "net 10.0.0.0/8", "net 10.0.0.0/8"},
	{"mask", "net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0 mask 255.0.0.0"},
	{"ipv6 prefix", "ip6 net fe80::/10", "ip6 net fe80::/10"},
	{"mac", "ether src aa-bb-cc-dd-ee-ff", "ether src aa-bb-cc-dd-ee-ff"},
	{"arcnet", "host $1f", "host $1f"},
	{"port number as written", "tcp port 0x50", "tcp port 0x50"},
	{"port in parens", "port ((80))", "port 80"},
	{"named constant value", "port tcp-syn", "port tcp-syn"},
	{"gateway", "gateway router", "gateway router"},
	{"protochain", "ip6 protochain 6", "ip6 protochain 6"},
	{"802.11 address", "wlan addr2 host 1:2:3:4:5:6", "ether addr2 host 1:2:3:4:5:6"},
	{"ra", "wlan ra 1:2:3:4:5:6", "ether ra 1:2:3:4:5:6"},

	{"and or equal precedence", "tcp or udp and icmp", "((tcp or udp) and icmp)"},
	{"left assoc", "tcp and udp or icmp", "((tcp and udp) or icmp)"},
	{"not binds tighter", "not tcp and udp", "(not tcp and udp)"},
	{"not paren", "!(tcp || udp)", "not (tcp or udp)"},
	{"double not", "not not tcp", "not not tcp"},
	{"symbols", "tcp&&!udp||icmp", "((tcp and not udp) or icmp)"},

	{"inherit host", "host a or b", "(host a or host b)"},
	{"inherit port", "tcp port 80 or 443", "(tcp port 80 or tcp port 443)"},
	{"inherit after not term", "not host a and b", "(not host a and host b)"},
	{"inherit into not", "host a and not b", "(host a and not host b)"},
	{"inherit into parens", "host a or (b or c)", "(host a or (host b or host c))"},
	{"inherit chain", "src net 10.1 or 10.2 or 10.3", "((src net 10.1 or src net 10.2) or src net 10.3)"},
	{"inherit number", "port 80 or (443)", "(port 80 or port 443)"},
	{"inherit pid number first", "host a or ((80) and b)", "(host a or (host 80 and host b))"},
	{"paren term passes outer qualifiers", "host a and (port 80) and b", "((host a and port 80) and host b)"},
	{"paren term inside paren", "host a and ((tcp) and b)", "(host a and (tcp and host b))"},
	{"head with pid", "port (80 or 443) and 53", "((port 80 or port 443) and port 53)"},
	{"head with not", "host ! a", "not host a"},
	{"inherit mask", "net 10.0.0.0 mask 255.0.0.0 or 192.168.0.0 mask 255.255.0.0",
		"(net 10.0.0.0 mask 255.0.0.0 or net 192.168.0.0 mask 255.255.0.0)"},

	{"relation", "ip[0] & 0xf != 5", "((ip[0:1] & 15) != 5)"},
	{"load size", "tcp[2:2] = 80", "(tcp[2:2] = 80)"},
	{"named constants", "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
		"((tcp[tcpflags:1] & (tcp-syn | tcp-ack)) = tcp-syn)"},
	{"icmp6 constant", "icmp6[icmp6type] = icmp6-echo", "(icmp6[icmp6type:1] = icmp6-echo)"},
	{"len alias", "length >= 100", "(len >= 100)"},
	{"arith precedence", "1 + 2 * 3 - 4 = 0", "(((1 + (2 * 3)) - 4) = 0)"},
	{"shift below add", "len << 1 + 2 = 0", "((len << (1 + 2)) = 0)"},
	{"or below and", "len | 1 & 2 = 0", "((len | (1 & 2)) = 0)"},
	{"xor takes the rest", "len ^ 2 + 3 = 0", "((len ^ (2 + 3)) = 0)"},
	{"xor takes its left operand only", "len + 2 ^ 3 * 4 = 0", "((len + (2 ^ (3 * 4))) = 0)"},
	{"mod takes the rest", "len * 2 % 3 + 1 = 0", "((len * (2 % (3 + 1))) = 0)"},
	{"xor right assoc", "len ^ 1 ^ 2 = 0", "((len ^ (1 ^ 2)) = 0)"},
	{"unary minus", "-len * 2 = 0", "((-len * 2) = 0)"},
	{"unary minus xor", "-len ^ 2 = 0", "(-(len ^ 2) = 0)"},
	{"double minus", "--len = 0", "(--len = 0)"},
	{"negated operand of xor", "(-len) ^ 2 = 0", "(((-len) ^ 2) = 0)"},
	{"negated operand of mod", "(-len) % 2 * 3 = 0", "(((-len) % (2 * 3)) = 0)"},
	{"minus operand", "2 - -1 = 3", "((2 - -1) = 3)"},
	{"paren arith", "(len + 1) * 2 = 0", "(((len + 1) * 2) = 0)"},
	{"paren number", "(1) = 1", "(1 = 1)"},
	{"paren relation", "(tcp[0] = 1)", "(tcp[0:1] = 1)"},
	{"paren load", "(tcp[0]) = 1", "(tcp[0:1] = 1)"},
	{"nested load", "ip[ip[0] & 0xf] = 1", "(ip[(ip[0:1] & 15):1] = 1)"},
	{"number forms", "len = 010 or len = 0X1f", "((len = 8) or (len = 31))"},

	{"less", "less 100", "less 100"},
	{"greater", "greater 0x10", "greater 16"},
	{"byte", "byte 1 == 2", "byte 1 = 2"},
	{"byte and", "byte 3 & 4", "byte 3 & 4"},
	{"broadcast", "broadcast", "broadcast"},
	{"ether multicast", "ether multicast", "ether multicast"},
	{"inbound", "inbound or outbound", "(inbound or outbound)"},
	{"ifindex", "ifindex 2", "ifindex 2"},
	{"vlan", "vlan and vlan 100", "(vlan and vlan 100)"},
	{"vlan paren", "vlan (5)", "vlan 5"},
	{"mpls", "mpls 3", "mpls 3"},
	{"pppoed", "pppoed", "pppoed"},
	{"pppoes", "pppoes 0x10", "pppoes 16"},
	{"geneve", "geneve", "geneve"},
	{"llc", "llc", "llc"},
	{"llc type", "llc u", "llc u"},
	{"llc rnr", "llc rulenum", "llc rnr"},
	{"802.11 type", "wlan type mgt subtype beacon", "type mgt subtype beacon"},
	{"802.11 subtype", "subtype probe-req", "subtype probe-req"},
	{"802.11 dir", "direction 0x1", "dir 1"},
	{"pf", "ifname eth0 and rulenum 3", "(on eth0 and rnr 3)"},
	{"pf reason", "reason bad-offset", "reason bad-offset"},
	{"atm", "lane or oamf4", "(lane or oamf4)"},
	{"atm field", "vpi == 1", "vpi = 1"},
	{"atm list", "vci (1 or 2 || 3)", "((vci 1 or vci 2) or vci 3)"},
	{"ss7", "lsu or hsio > 2", "(lssu or hsio > 2)"},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		n, err := Parse(tt.input)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", tt.name, tt.input, err)
			continue
		}
		got := "<nil>"
		if n != nil {
			got = n.String()
		}
		if got != tt.want {
			t.Errorf("%s: Parse(%q) = %q, want %q", tt.name, tt.input, got, tt.want)
			continue
		}
		if n == nil {
			continue
		}
		again, err := Parse(got)
		if err != nil || again.String() != got {
			t.Errorf("%s: canonical %q does not round trip: %v %v", tt.name, got, again, err)
		}
	}
}

// errorTests pin the position and message of errors.
var errorTests = []struct {
	input string
	pos   int
	msg   string
}{
	{"host and", 5, "expected a host, network or port value after 'host', found 'and'"},
	{"host", 4, "expected a host, network or port value after 'host', found end of expression"},
	{"port", 4, "expected a port number or name after 'port', found end of expression"},
	{"ip proto", 8, "expected a protocol number or name after 'proto'"},
	{"src or 1.2.3.4", 4, "after 'src', found 'or'"},
	{"src proto 6", 4, "after 'src', found 'proto'"},
	{"(tcp", 4, "expected ')' to close '(' at offset 0, found end of expression"},
	{"(tcp udp)", 5, "expected ')' to close '(' at offset 0, found 'udp'"},
	{"tcp)", 3, "unexpected ')' without a matching '('"},
	{"and", 0, "unexpected 'and'"},
	{"tcp and", 7, "expected a primitive after 'and', found end of expression"},
	{"tcp or or udp", 7, "expected a primitive after 'or', found 'or'"},
	{"not", 3, "expected a primitive after 'not', found end of expression"},
	{"tcp udp", 4, "expected 'and' or 'or', found 'udp'"},
	{"4294967296 = 1", 0, "number 4294967296 overflows 32 bits"},
	{"len = 0x100000000", 6, "number 0x100000000 overflows 32 bits"},
	{"len = 0040000000000", 6, "number 0040000000000 overflows 32 bits"},
	{"len = 040000000000", 6, "found MAC address '040000000000'"},
	{"len = 09", 6, "number 09 contains non-octal digit"},
	{"ip[0:3] = 1", 5, "packet access size must be 1, 2 or 4"},
	{"ip[0:(2)] = 1", 5, "expected a size (1, 2 or 4) after ':', found '('"},
	{"ip[0 = 1", 5, "expected ']' to close '[' at offset 2, found '='"},
	{"ip[0]", 5, "expected a comparison (=, !=, <, <=, >, >=), found end of expression"},
	{"(1)", 3, "expected a comparison"},
	{"len =", 5, "expected a number, 'len' or a packet access such as 'ip[0]', found end of expression"},
	{"tcp and 80", 8, "missing qualifier before '80'"},
	{"tcp and localhost", 8, "missing qualifier before 'localhost'"},
	{"len = 1 or 10.0.0.0/8", 11, "missing qualifier before '10.0.0.0/8'"},
	{"(host a) and b", 13, "missing qualifier before 'b'"},
	{"host a and ((b) and c)", 13, "unexpected 'b': a value needs a qualifier such as 'host' before it"},
	{"host a or (b and tcp)", 17, "expected a value, found 'tcp'"},
	{"1.2.3.4", 0, "unexpected IPv4 address '1.2.3.4'"},
	{"host 1:2:3", 5, "bogus ethernet address 1:2:"},
	{"host ::1.02.3.4", 5, "bogus IPv6 address ::1.02.3.4"},
	{"tcp @", 4, "unexpected character '@'"},
	{"host é", 5, "unexpected character 'é'"},
	{"tcp\vudp", 3, "unexpected character '\\v'"},
	{"host \\", 5, "unexpected character '\\\\'"},
	{"net 10.0.0.0/", 13, "expected a prefix length after '/'"},
	{"net 10.0.0.0 mask", 17, "expected a dotted netmask after 'mask'"},
	{"net 10 mask 255.0.0.0", 7, "expected 'and' or 'or', found 'mask'"},
	{"less", 4, "expected a length after 'less'"},
	{"less (10)", 5, "expected a length after 'less', found '('"},
	{"byte 1 + 2", 7, "expected one of '=', '<', '>', '&', '|' after 'byte 1'"},
	{"vlan (tcp)", 6, "expected a number after 'vlan', found 'tcp'"},
	{"on 1", 3, "expected a name after 'on', found number '1'"},
	{"subtype 8", 8, "expected an 802.11 subtype name after 'subtype'"},
	{"vpi (1 and 2)", 7, "expected ')' to close '(' at offset 4, found 'and'"},
	{"llc 1", 4, "expected 'and' or 'or', found number '1'"},
	{"host 1.1.1.1 or ((2.2.2.2))", 18, "unexpected IPv4 address '2.2.2.2'"},
	{"(tcp and 1.2.3.4 @", 9, "missing qualifier before '1.2.3.4'"},
	{"(host a and 1.2.3.4 @", 20, "unexpected character '@'"},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorTests {
		n, err := Parse(tt.input)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want error %q", tt.input, n, tt.msg)
			continue
		}
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("Parse(%q): error %T, want *Error", tt.input, err)
			continue
		}
		if e.Pos != tt.pos || !strings.Contains(e.Msg, tt.msg) || e.Expr != tt.input {
			t.Errorf("Parse(%q): error at %d %q, want at %d %q", tt.input, e.Pos, e.Msg, tt.pos, tt.msg)
		}
		if !strings.HasPrefix(err.Error(), "filter: ") {
			t.Errorf("Parse(%q): %q lacks the package prefix", tt.input, err)
		}
	}
}

func TestErrorCaret(t *testing.T) {
	_, err := Parse("tcp and\thost")
	e := err.(*Error)
	if want := "tcp and\thost\n       \t    ^"; e.Caret() != want {
		t.Errorf("Caret() = %q, want %q", e.Caret(), want)
	}
}

func mustParse(t *testing.T, expr string) Node {
	t.Helper()
	n, err := Parse(expr)
	if err != nil {
		t.Fatalf("Parse(%q): %v", expr, err)
	}
	return n
}

func TestInheritedPrimitives(t *testing.T) {
	n := mustParse(t, "tcp src port 80 or (http and 0x1bb)")
	or := n.(*Or)
	first := or.X.(*Primitive)
	want := Qualifiers{Proto: ProtoTCP, Dir: DirSrc, Addr: AddrPort}
	if first.Q != want || first.Inherited || first.Span != (Span{0, 15}) || first.ValuePos != 13 {
		t.Errorf("first primitive = %+v", first)
	}
	and := or.Y.(*And)
	name, num := and.X.(*Primitive), and.Y.(*Primitive)
	if name.Q != want || !name.Inherited || name.Value != (Value{Kind: ValueName, Text: "http", Prefix: -1}) {
		t.Errorf("inherited name = %+v", name)
	}
	if num.Q != want || !num.Inherited || num.Value != (Value{Kind: ValueNumber, Text: "0x1bb", Number: 443, Prefix: -1}) {
		t.Errorf("inherited number = %+v", num)
	}
	if num.Span != (Span{29, 34}) {
		t.Errorf("inherited span = %v, want {29 34}", num.Span)
	}
}

func TestValues(t *testing.T) {
	tests := []struct {
		input string
		want  Value
	}{
		{`proto \tcp`, Value{Kind: ValueName, Text: "tcp", Escaped: true, Prefix: -1}},
		{"host 10.1", Value{Kind: ValueHost, Text: "10.1", Prefix: -1}},
		{"net 10.0.0.0/8", Value{Kind: ValueHost, Text: "10.0.0.0", Prefix: 8}},
		{"net 10.0.0.0 mask 255.0.0.0", Value{Kind: ValueHost, Text: "10.0.0.0", Prefix: -1, Mask: "255.0.0.0"}},
		{"net fe80::/10", Value{Kind: ValueHost6, Text: "fe80::", Prefix: 10}},
		{"host ::ffff:1.2.3.4", Value{Kind: ValueHost6, Text: "::ffff:1.2.3.4", Prefix: -1}},
		{"ether host 0011.2233.4455", Value{Kind: ValueMAC, Text: "0011.2233.4455", Prefix: -1}},
		{"ether host 001122334455", Value{Kind: ValueMAC, Text: "001122334455", Prefix: -1}},
		{"host $1f", Value{Kind: ValueArcnet, Text: "$1f", Prefix: -1}},
		{"port tcp-syn", Value{Kind: ValueNumber, Text: "tcp-syn", Number: 2, Prefix: -1}},
		{"host 1.2.3.4.5", Value{Kind: ValueName, Text: "1.2.3.4.5", Prefix: -1}},
	}
	for _, tt := range tests {
		p, ok := mustParse(t, tt.input).(*Primitive)
		if !ok || p.Value != tt.want {
			t.Errorf("Parse(%q) value = %+v, want %+v", tt.input, p, tt.want)
		}
	}
}

func TestArithNodes(t *testing.T) {
	c := mustParse(t, "tcp[tcpflags:2] & 0x12 != icmp-echo").(*Compare)
	b := c.X.(*Binary)
	load := b.X.(*Load)
	if c.Op != RelNe || b.Op != OpAnd || load.Proto != ProtoTCP || load.Size != 2 || !load.SizeGiven {
		t.Errorf("compare = %+v, binary %+v, load %+v", c, b, load)
	}
	if idx := load.Index.(*Num); idx.V != 13 || idx.Name != "tcpflags" {
		t.Errorf("index = %+v", idx)
	}
	if y := c.Y.(*Num); y.V != 8 || y.Name != "icmp-echo" || y.Span != (Span{26, 35}) {
		t.Errorf("rhs = %+v", y)
	}
	if n := b.Y.(*Num); n.V != 0x12 || n.Name != "" {
		t.Errorf("mask = %+v", n)
	}
	if l := mustParse(t, "ip[0] = 1").(*Compare).X.(*Load); l.Size != 1 || l.SizeGiven {
		t.Errorf("default size load = %+v", l)
	}
	if _, ok := mustParse(t, "len - 1 < -2").(*Compare).Y.(*Neg); !ok {
		t.Errorf("want unary minus on the right")
	}
}

func TestOtherNodes(t *testing.T) {
	tests := []struct {
		input string
		want  Node
	}{
		{"ip broadcast", &Broadcast{Span{0, 12}, ProtoIP}},
		{"multicast", &Multicast{Span{0, 9}, ProtoDefault}},
		{"greater 0x40", &Length{Span{0, 12}, true, 64}},
		{"byte 2 | 1", &ByteOp{Span{0, 10}, 2, '|', 1}},
		{"outbound", &Direction{Span{0, 8}, true}},
		{"ifindex 7", &Ifindex{Span{0, 9}, 7}},
		{"vlan (100)", &Encap{Span{0, 10}, "vlan", true, 100}},
		{"pppoed", &Encap{Span{0, 6}, "pppoed", false, 0}},
		{"ip6", &ProtoAbbrev{Span{0, 3}, ProtoIPv6}},
		{"es-is", &ProtoAbbrev{Span{0, 5}, ProtoESIS}},
		{"type data subtype 0x08", &Keyword{Span{0, 22}, []string{"type", "data", "subtype", "8"}, true, 8}},
		{"ruleset web", &Keyword{Span{0, 11}, []string{"rset", "web"}, false, 0}},
		{"sio <= 3", &Keyword{Span{0, 8}, []string{"sio", "<=", "3"}, true, 3}},
		{"llc", &Keyword{Span{0, 3}, []string{"llc"}, false, 0}},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.input); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.input, got, tt.want)
		}
	}
}
