package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// setFiles writes the sets the tests use and returns their --set options.
func setFiles(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"hosts": "# servers\n198.18.0.10\nfd00:beef::1\n198.19.200.2\n",
		"nets":  "198.19.200.0/24\nfd00:beef::100/120\n198.18.1.20\n",
		"ports": "80\n53\n1000-1100 # a range\n5432\n",
		"macs":  "02:be:ef:00:00:01\n02:be:ef:00:00:02\n",
	}
	var args []string
	for name, text := range files {
		path := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--set", name+"="+path)
	}
	return args
}

// TestRunSetsMatchTcpdump: filtering a file with sets keeps exactly the
// packets tcpdump keeps with every entry written out, on each generated
// capture.
func TestRunSetsMatchTcpdump(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	sets := setFiles(t)
	for _, tc := range []struct{ expr, written string }{
		{"host @hosts", "host 198.18.0.10 or host fd00:beef::1 or host 198.19.200.2"},
		{"src net @nets", "src net 198.19.200.0/24 or src net fd00:beef::100/120 or src net 198.18.1.20/32"},
		{"tcp dst port @ports", "tcp dst port 80 or tcp dst port 53 or tcp dst portrange 1000-1100 or tcp dst port 5432"},
		{"not port @ports and ip6 host @hosts", "not (port 80 or port 53 or portrange 1000-1100 or port 5432) and ip6 host fd00:beef::1"},
		{"ip src host @hosts or ip6 dst net @nets", "ip src host 198.18.0.10 or ip src host 198.19.200.2 or ip6 dst net fd00:beef::100/120"},
	} {
		for _, capture := range []string{"en10mb.pcap", "linux_sll2.pcap", "raw.pcap"} {
			in := filepath.Join("..", "..", "testdata", "captures", capture)
			want, err := exec.Command(tcpdump, "-r", in, "-w", "-", tc.written).Output()
			if err != nil {
				t.Fatalf("tcpdump %q on %s: %v", tc.written, capture, err)
			}
			args := append(append([]string{}, sets...), "-r", in, "-w", "-", tc.expr)
			r := runWeir(t, nil, args...)
			if r.code != 0 {
				t.Fatalf("weir %q on %s: exit %d: %s", tc.expr, capture, r.code, r.stderr)
			}
			_, got := readCapture(t, []byte(r.stdout))
			_, wantPackets := readCapture(t, want)
			if len(wantPackets) == 0 && !strings.Contains(tc.expr, "not") {
				t.Errorf("%q on %s: tcpdump keeps nothing, a test that cannot fail", tc.written, capture)
			}
			if len(got) != len(wantPackets) {
				t.Errorf("%q on %s: %d packets, tcpdump %d", tc.expr, capture, len(got), len(wantPackets))
				continue
			}
			for i := range got {
				if !bytes.Equal(got[i], wantPackets[i]) {
					t.Errorf("%q on %s: packet %d differs from tcpdump's", tc.expr, capture, i)
					break
				}
			}
		}
	}
}

// TestRunSetErrors: bad --set options and set files stop the command with
// status 1 and a message naming the problem and where.
func TestRunSetErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.txt")
	if err := os.WriteFile(bad, []byte("198.18.0.1\n\n  198.18.0.0/33\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.txt")
	if err := os.WriteFile(good, []byte("198.18.0.0/15\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--set", "b=" + bad, "-d", "host @b"}, bad + ":3:3: bad network \"198.18.0.0/33\""},
		{[]string{"--set", "b=" + filepath.Join(dir, "none.txt"), "-d", "host @b"}, "set @b: open " + filepath.Join(dir, "none.txt")},
		{[]string{"--set", "b", "-d", "host @b"}, "write --set NAME=FILE"},
		{[]string{"--set", "b=" + good, "--set", "b=" + good, "-d", "host @b"}, "set @b is given twice"},
		{[]string{"--set", "-x=" + good, "-d", "host @b"}, "invalid set name \"-x\""},
		{[]string{"-d", "host @b"}, "unknown set @b (define it with --set b=FILE)"},
		{[]string{"-d", "tcp and host @b"}, "\ntcp and host @b\n             ^"},
		{[]string{"--set", "g=" + good, "-d", "host @g"}, "198.18.0.0/15 is a network: 'host' takes addresses (write 'net @g') (set @g, " + good + ":1: 198.18.0.0/15)"},
	} {
		r := runWeir(t, nil, tc.args...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("weir %q: exit %d, stderr:\n%s\nwant exit 1 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestRunLargeSetOffline: a file is filtered with a set far beyond what
// classic BPF expands (weir's VM looks it up), keeping exactly the
// packets tcpdump keeps with the set's addresses that occur written out.
func TestRunLargeSetOffline(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	var b strings.Builder
	for i := 0; i < 65000; i++ {
		fmt.Fprintf(&b, "10.77.%d.%d\n", i>>8, i&255) // none in the capture
	}
	b.WriteString("198.18.0.10\nfd00:beef::1\n")
	setFile := filepath.Join(t.TempDir(), "big.txt")
	if err := os.WriteFile(setFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join("..", "..", "testdata", "captures", "en10mb.pcap")
	want, err := exec.Command(tcpdump, "-r", in, "-w", "-", "host 198.18.0.10 or host fd00:beef::1").Output()
	if err != nil {
		t.Fatal(err)
	}
	r := runWeir(t, nil, "--set", "big="+setFile, "-r", in, "-w", "-", "host @big")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, got := readCapture(t, []byte(r.stdout))
	_, wantPackets := readCapture(t, want)
	if len(wantPackets) == 0 || len(got) != len(wantPackets) {
		t.Fatalf("%d packets, tcpdump %d", len(got), len(wantPackets))
	}
	for i := range got {
		if !bytes.Equal(got[i], wantPackets[i]) {
			t.Fatalf("packet %d differs from tcpdump's", i)
		}
	}
}
