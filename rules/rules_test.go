package rules

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// files is a fake file system for set files.
func files(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		if s, ok := m[name]; ok {
			return []byte(s), nil
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
	}
}

const goodRules = `# rules for the lab
sets:
  servers: [198.18.0.10, fd00:beef::1]
  blocked: blocked.txt
  web:
    - 80
    - 8000-8080
rules:
  - name: drop-blocked
    match: src net @blocked
    action: drop
    capture: true
  - name: web
    match: "tcp dst port @web and host @servers"
    sample: 10
    rate: {packets: 1000, per: flow, burst: 2000}
    snaplen: 128
  - name: quiet
    match: udp port 5353
    action: pass
  - name: rest
    rate:
      bytes: 1000000
`

func TestParseGoodFile(t *testing.T) {
	f, err := Parse("lab/rules.yaml", []byte(goodRules), files(map[string]string{"lab/blocked.txt": "198.18.128.0/17\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sets) != 3 || len(f.Sets["servers"].Entries) != 2 || len(f.Sets["web"].Entries) != 2 || f.Sets["blocked"].Source != "lab/blocked.txt" {
		t.Fatalf("sets %+v", f.Sets)
	}
	if f.Sets["servers"].Entries[1].Line != 3 {
		t.Errorf("inline entry line %d, want 3", f.Sets["servers"].Entries[1].Line)
	}
	want := []Rule{
		{Name: "drop-blocked", Match: "src net @blocked", Action: ActionDrop, Capture: true},
		{Name: "web", Match: "tcp dst port @web and host @servers", Sample: 10, Snaplen: 128,
			Rate: &Rate{Packets: 1000, PerFlow: true, Burst: 2000}},
		{Name: "quiet", Match: "udp port 5353", Action: ActionPass},
		{Name: "rest", Rate: &Rate{Bytes: 1000000}},
	}
	if len(f.Rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(f.Rules), len(want))
	}
	for i, w := range want {
		g := f.Rules[i]
		if g.Name != w.Name || g.Match != w.Match || g.Sample != w.Sample || g.Snaplen != w.Snaplen ||
			g.Action != w.Action || g.Capture != w.Capture || fmt.Sprint(g.Rate) != fmt.Sprint(w.Rate) {
			t.Errorf("rule %d = %+v, want %+v", i, g, w)
		}
	}
	if p := f.Rules[1].MatchPos; p != (Position{14, 13}) || !f.Rules[1].MatchPlain {
		t.Errorf("web's match at %+v (plain %v), want 14:13 inside the quotes", p, f.Rules[1].MatchPlain)
	}
	if !f.Rules[0].Captures() || f.Rules[2].Captures() || !f.Rules[3].Captures() {
		t.Error("Captures: drop+capture and capture rules capture, pass rules do not")
	}
	c, err := f.Compile(Target{Filter: filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true}, XDP: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Programs) != 4 || !c.Programs[0].HasLookups() || !c.Programs[1].HasLookups() || c.Programs[2].HasLookups() {
		t.Errorf("programs: %d, lookups in the set rules only expected", len(c.Programs))
	}
}

func TestParseErrors(t *testing.T) {
	set := files(map[string]string{"bad.txt": "198.18.0.1\n10.0.0.0/33\n"})
	for _, tc := range []struct {
		text, want string
	}{
		{"", "r.yaml:1:1: empty rules file"},
		{"rules: [\n", "r.yaml:1:8: bad YAML: sequence end token ']' not found"},
		{"rules:\n  - name: a\n   bad indent: 1\n", "r.yaml:3:4: bad YAML: value is not allowed in this context"},
		{"rules:\n  - name: a\n    match: 'tcp\n", "r.yaml:3:12: bad YAML: could not find end character of single-quoted text"},
		{"a:\n\t- x\n", "r.yaml:2:1: bad YAML: found character '\t' that cannot start any token"},
		{"sets: {}\n", "r.yaml:1:1: no rules"},
		{"rules:\n  - name: a\n    smaple: 10\n", `r.yaml:3:5: unknown key "smaple" in a rule (known: name, match, sample, rate, snaplen, action, capture)`},
		{"rules:\n  - match: tcp\n", "r.yaml:2:5: a rule without a name"},
		{"rules:\n  - name: a\n  - name: a\n", `r.yaml:3:5: a second rule named "a" (the first is at line 2)`},
		{"rules:\n  - name: a\n    sample: 0\n", `r.yaml:3:13: sample must be a whole number from 1 to 4294967295, not "0"`},
		{"rules:\n  - name: a\n    snaplen: 300000\n", `r.yaml:3:14: snaplen must be a whole number from 1 to 262144`},
		{"rules:\n  - name: a\n    action: block\n", `r.yaml:3:13: unknown action "block" (capture, drop or pass)`},
		{"rules:\n  - name: a\n    capture: true\n", `r.yaml:3:14: rule "a": "capture" goes with "action: drop"`},
		{"rules:\n  - name: a\n    rate: {packets: 10, bytes: 10}\n", "r.yaml:3:11: a rate gives either packets or bytes per second"},
		{"rules:\n  - name: a\n    rate: {packets: 10, per: host}\n", `r.yaml:3:30: per must be global or flow, not "host"`},
		{"sets:\n  s: [198.18.0.1, 10.0.0.1/8]\nrules:\n  - name: a\n", `r.yaml:2:19: set "s": non-network bits set in 10.0.0.1/8`},
		{"sets:\n  s: bad.txt\nrules:\n  - name: a\n", "bad.txt:2:1: bad network"},
		{"sets:\n  s: none.txt\nrules:\n  - name: a\n", `r.yaml:2:6: set "s": open none.txt`},
		{"sets:\n  b@d: [80]\nrules:\n  - name: a\n", `r.yaml:2:3: bad set name "b@d"`},
	} {
		_, err := Parse("r.yaml", []byte(tc.text), set)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant ...%s...", tc.text, err, tc.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cli, err := filter.ParseSet("cli", "cli.txt", strings.NewReader("198.18.0.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		text string
		xdp  bool
		want string
	}{
		{"rules:\n  - name: a\n    match: tcp port 80 and hots 1.2.3.4\n", true,
			"r.yaml:3:33: rule \"a\": expected 'and' or 'or', found IPv4 address '1.2.3.4'\ntcp port 80 and hots 1.2.3.4\n                     ^"},
		{"rules:\n  - name: a\n    match: 'host @nope'\n", true, "r.yaml:3:18: rule \"a\": unknown set @nope"},
		{"rules:\n  - name: a\n    match: host @cli and port @cli\n", true, "(set @cli, cli.txt:1: 198.18.0.1)"},
		{"rules:\n  - name: d\n    match: tcp\n    action: drop\n", false, `r.yaml:2:5: rule "d" drops packets, which only XDP can: capture with --xdp`},
		{"sets:\n  cli: [80]\nrules:\n  - name: a\n", true, `r.yaml:2:3: set "cli" is defined here and by --set cli=cli.txt`},
		{"rules:\n  - name: a\n    match: >\n      tcp and\n      nonsense\n", true, "r.yaml:3:12: rule \"a\""},
	} {
		f, err := Parse("r.yaml", []byte(tc.text), files(nil))
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		_, err = f.Compile(Target{Filter: filter.Config{LinkType: pcap.LinkTypeEthernet}, XDP: tc.xdp, Sets: map[string]*filter.Set{"cli": cli}})
		var re *Error
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant ...%s...", tc.text, err, tc.want)
		}
	}
}
