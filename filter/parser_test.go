package filter

import (
	"bufio"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
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
var (
	update  = flag.Bool("update", false, "regenerate testdata/parse goldens with tcpdump")
	addFile = flag.String("add", "", "with -update: file of expressions to add to the syntax golden")
)

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
	if *update {
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
	if *update {
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
