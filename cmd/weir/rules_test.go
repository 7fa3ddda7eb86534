package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeRules(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blocked.txt"), []byte("198.18.128.0/17\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const cliRules = `sets:
  servers: [198.18.0.10, fd00:beef::1]
  blocked: blocked.txt
rules:
  - name: blocked
    match: src net @blocked
    action: drop
    capture: true
  - name: web
    match: tcp port 443 and host @servers
    sample: 10
`

// TestRunRulesCheck: --check reads and compiles a rules file and says
// so; its problems exit 1 with file:line:column.
func TestRunRulesCheck(t *testing.T) {
	good := writeRules(t, cliRules)
	r := runWeir(t, nil, "--rules", good, "--check", "--xdp")
	if r.code != 0 || r.stdout != good+": 2 rules, 2 sets: OK\n" {
		t.Errorf("--check of a good file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	badExpr := writeRules(t, strings.Replace(cliRules, "tcp port 443 and", "tcp port 443 and and", 1))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rules", good, "--check"}, good + `:5:5: rule "blocked" drops packets, which only XDP can: capture with --xdp`},
		{[]string{"--rules", badExpr, "--check", "--xdp"}, badExpr + ":10:29: rule \"web\": expected a primitive after 'and', found 'and'"},
		{[]string{"--rules", badExpr, "--check", "--xdp"}, "\ntcp port 443 and and host @servers\n                 ^"},
		{[]string{"--check"}, "--check checks a rules file: give it with --rules FILE"},
		{[]string{"--rules", good, "--check", "--xdp", "tcp"}, "--rules replaces the expression"},
		{[]string{"--rules", good, "--check", "--xdp", "--set", "servers=" + filepath.Join(filepath.Dir(good), "blocked.txt")}, good + `:2:3: set "servers" is defined here and by --set servers=`},
		{[]string{"--rules", filepath.Join(t.TempDir(), "none.yaml"), "--check"}, "no such file or directory"},
		{[]string{"--rules", good, "-r", "x.pcap"}, "rules run in the eBPF program of a live capture (--xdp or --tc), not on a file"},
		{[]string{"--rules", good, "-i", "lo"}, "capturing with rules needs --xdp, --tc or --ebpf"},
	} {
		r := runWeir(t, nil, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("weir %q: exit %d, stderr:\n%s\nwant exit 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestRunRulesDump: -d with --rules prints the rules program (one per
// tcx direction) and captures nothing.
func TestRunRulesDump(t *testing.T) {
	path := writeRules(t, "rules:\n  - name: web\n    match: tcp port 443\n    sample: 10\n  - name: rest\n    rate: {packets: 100}\n")
	r := runWeir(t, nil, "--rules", path, "--xdp", "-d")
	if r.code != 0 || !strings.Contains(r.stdout, "rule1_start:") || !strings.Contains(r.stdout, "<weir_rule_counters>") ||
		!strings.Contains(r.stdout, "<weir_rule_rates>") || strings.Contains(r.stderr, "listening") {
		t.Errorf("--xdp -d: exit %d, stdout:\n%s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runWeir(t, nil, "--rules", path, "--tc", "-d")
	if r.code != 0 || !strings.Contains(r.stdout, "; tcx ingress\n") || !strings.Contains(r.stdout, "; tcx egress\n") {
		t.Errorf("--tc -d: exit %d, stdout starts %.200q, stderr %s", r.code, r.stdout, r.stderr)
	}
}
