package filter

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

func mustSet(t *testing.T, name, text string) *Set {
	t.Helper()
	s, err := ParseSet(name, name+".txt", strings.NewReader(text))
	if err != nil {
		t.Fatalf("set %s: %v", name, err)
	}
	return s
}

func TestParseSet(t *testing.T) {
	s := mustSet(t, "mixed", `# servers and friends
198.18.0.1
  198.18.0.0/15   # the benchmark network
fd00:beef::1
fd00:beef::/64
80
8000-8080
02:be:ef:00:00:01

198.18.0.1   # again: kept once
00-11-22-33-44-55
`)
	want := []struct {
		kind SetEntryKind
		line int
		text string
	}{
		{SetAddress, 2, "198.18.0.1"}, {SetPrefix, 3, "198.18.0.0/15"}, {SetAddress, 4, "fd00:beef::1"},
		{SetPrefix, 5, "fd00:beef::/64"}, {SetPort, 6, "80"}, {SetPortRange, 7, "8000-8080"},
		{SetMAC, 8, "02:be:ef:00:00:01"}, {SetMAC, 11, "00:11:22:33:44:55"}, // canonical spelling
	}
	if len(s.Entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(s.Entries), len(want), s.Entries)
	}
	for i, w := range want {
		e := s.Entries[i]
		if e.Kind != w.kind || int(e.Line) != w.line || e.String() != w.text {
			t.Errorf("entry %d = %v line %d %q, want %v line %d %q", i, e.Kind, e.Line, e.String(), w.kind, w.line, w.text)
		}
	}
	if e := s.Entries[5]; e.Port != 8000 || e.LastPort != 8080 {
		t.Errorf("range %d-%d, want 8000-8080", e.Port, e.LastPort)
	}
	if e := s.Entries[1]; e.Bits != 15 {
		t.Errorf("prefix length %d, want 15", e.Bits)
	}
}

func TestParseSetErrors(t *testing.T) {
	for _, tc := range []struct {
		text      string
		line, col int
		msg       string
	}{
		{"198.18.0.1\n10.0.0.0/33\n", 2, 1, "bad network"},
		{"10.0.0.1/8\n", 1, 1, "non-network bits set in 10.0.0.1/8 (the network is 10.0.0.0/8)"},
		{"# c\n\n   65536\n", 3, 4, "port 65536 is over 65535"},
		{"90-80\n", 1, 1, "port range 90-80 runs backwards"},
		{"1.2.3.4 5.6.7.8\n", 1, 9, `one entry per line: "5.6.7.8" follows "1.2.3.4"`},
		{"web.example\n", 1, 1, `"web.example" is not an address, network, port, port range or MAC address`},
		{"10.1\n", 1, 1, "is not an address"},
		{"fe80::1%eth0\n", 1, 1, "no zone"},
		{"02:be:ef:00:00:01:02\n", 1, 1, "is not an address"},
		{strings.Repeat("1", maxSetLine+1) + "\n", 1, 1, "line longer than"},
	} {
		_, err := ParseSet("s", "s.txt", strings.NewReader(tc.text))
		var se *SetError
		if !errors.As(err, &se) {
			t.Errorf("%q: %v, want a *SetError", tc.text, err)
			continue
		}
		if se.File != "s.txt" || se.Line != tc.line || se.Column != tc.col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%q: %v, want s.txt:%d:%d: ...%s...", tc.text, err, tc.line, tc.col, tc.msg)
		}
		if !strings.HasPrefix(err.Error(), fmt.Sprintf("s.txt:%d:%d: ", tc.line, tc.col)) {
			t.Errorf("%q: message %q does not start with file:line:column", tc.text, err)
		}
	}
	if _, err := ParseSet("bad name", "x", strings.NewReader("")); err == nil {
		t.Error("a set name with a space was accepted")
	}
}

// TestSetExpansion: a set used as a value compiles to exactly the program
// of the same primitive written once per entry, joined by "or", optimized
// or not, so every qualifier keeps libpcap's meaning.
func TestSetExpansion(t *testing.T) {
	sets := map[string]*Set{
		"hosts": mustSet(t, "hosts", "198.18.0.1\nfd00:beef::1\n198.18.0.2\n"),
		"nets":  mustSet(t, "nets", "198.18.0.0/15\n198.19.5.5\nfd00:beef::/64\n"),
		"ports": mustSet(t, "ports", "53\n8000-8080\n443\n"),
		"macs":  mustSet(t, "macs", "02:be:ef:00:00:01\n02:be:ef:00:01:02\n"),
		"one":   mustSet(t, "one", "198.18.0.9\n"),
		"empty": mustSet(t, "empty", "# nothing yet\n"),
	}
	for _, tc := range []struct{ expr, same string }{
		{"host @hosts", "host 198.18.0.1 or host fd00:beef::1 or host 198.18.0.2"},
		{"src host @hosts", "src host 198.18.0.1 or src host fd00:beef::1 or src host 198.18.0.2"},
		{"ip host @one", "ip host 198.18.0.9"},
		{"ip host @hosts", "ip host 198.18.0.1 or ip host 198.18.0.2"},
		{"ip6 src host @hosts", "ip6 src host fd00:beef::1"},
		{"arp net @nets", "arp net 198.18.0.0/15 or arp net 198.19.5.5/32"},
		{"dst net @nets", "dst net 198.18.0.0/15 or dst net 198.19.5.5/32 or dst net fd00:beef::/64"},
		{"net @nets", "net 198.18.0.0/15 or net 198.19.5.5/32 or net fd00:beef::/64"},
		{"src @nets", "src net 198.18.0.0/15 or src 198.19.5.5 or src net fd00:beef::/64"},
		{"tcp port @ports", "tcp port 53 or tcp portrange 8000-8080 or tcp port 443"},
		{"portrange @ports", "portrange 53 or portrange 8000-8080 or portrange 443"},
		{"ether host @macs", "ether host 02:be:ef:00:00:01 or ether host 02:be:ef:00:01:02"},
		{"src and dst host @hosts", "(src host 198.18.0.1 or src host fd00:beef::1 or src host 198.18.0.2) and (dst host 198.18.0.1 or dst host fd00:beef::1 or dst host 198.18.0.2)"},
		{"ether src @macs and not dst port @ports", "(ether src 02:be:ef:00:00:01 or ether src 02:be:ef:00:01:02) and not (dst port 53 or dst portrange 8000-8080 or dst port 443)"},
		{"host @one or @hosts", "host 198.18.0.9 or (host 198.18.0.1 or host fd00:beef::1 or host 198.18.0.2)"},
		{"vlan and host @one", "vlan and host 198.18.0.9"},
	} {
		for _, optimize := range []bool{false, true} {
			cfg := Config{LinkType: pcap.LinkTypeEthernet, Optimize: optimize, Sets: sets}
			got, err := Compile(tc.expr, cfg)
			if err != nil {
				t.Errorf("%q: %v", tc.expr, err)
				continue
			}
			want, err := Compile(tc.same, cfg)
			if err != nil {
				t.Fatalf("%q: %v", tc.same, err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%q (optimize %v): %d instructions, want those of %q (%d)", tc.expr, optimize, len(got), tc.same, len(want))
			}
		}
	}
}

func TestSetErrors(t *testing.T) {
	big := new(strings.Builder)
	for i := 0; i <= MaxClassicSetEntries; i++ {
		fmt.Fprintf(big, "198.18.%d.%d\n", i/256, i%256)
	}
	sets := map[string]*Set{
		"nets":  mustSet(t, "nets", "198.18.0.1\n198.18.0.0/15\n"),
		"hosts": mustSet(t, "hosts", "198.18.0.1\n"),
		"big":   mustSet(t, "big", big.String()),
	}
	for _, tc := range []struct {
		expr string
		pos  int
		msg  string
	}{
		{"host @nope", 5, "unknown set @nope (define it with --set nope=FILE)"},
		{"tcp and host @big", 13, "set @big has 257 entries, more than the 256 that classic BPF takes"},
		{"host @nets", 5, "198.18.0.0/15 is a network: 'host' takes addresses (write 'net @nets') (set @nets, nets.txt:2: 198.18.0.0/15)"},
		{"port @hosts", 5, "198.18.0.1 is an address: 'port' takes port numbers (set @hosts, hosts.txt:1: 198.18.0.1)"},
		{"proto @hosts", 6, "a set cannot follow 'proto'"},
		{"ether host @hosts", 11, "(set @hosts, hosts.txt:1: 198.18.0.1)"},
		{"port 80 and @hosts", 12, "198.18.0.1 is an address: 'port' takes port numbers"},
		{"@hosts", 0, "a value needs a qualifier"},
		{"host @", 5, "unexpected character '@'"},
	} {
		_, err := Compile(tc.expr, Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Sets: sets})
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("%q: %v, want a positioned error", tc.expr, err)
			continue
		}
		if fe.Pos != tc.pos || !strings.Contains(fe.Msg, tc.msg) {
			t.Errorf("%q: at %d: %s\nwant at %d: ...%s...", tc.expr, fe.Pos, fe.Msg, tc.pos, tc.msg)
		}
	}
}

func TestSetPrintsAsWritten(t *testing.T) {
	for expr, want := range map[string]string{
		"host @servers":                "host @servers",
		"src net @blocked or @more":    "(src net @blocked or src net @more)",
		"tcp dst port @web and not @x": "(tcp dst port @web and not tcp dst port @x)",
	} {
		n, err := Parse(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if got := n.String(); got != want {
			t.Errorf("%q prints %q, want %q", expr, got, want)
		}
	}
}

// TestEmptySetMatchesNothing: an empty set is a test that never holds.
func TestEmptySetMatchesNothing(t *testing.T) {
	sets := map[string]*Set{"empty": mustSet(t, "empty", "# nothing yet\n")}
	cfg := Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Sets: sets}
	if _, err := Compile("host @empty", cfg); err == nil || !strings.Contains(err.Error(), "rejects all packets") {
		t.Errorf("host @empty: %v, want the expression to reject all packets", err)
	}
	prog, err := Compile("host @empty or udp port 53", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		proto byte
		port  uint16
		want  bool
	}{{17, 53, true}, {17, 54, false}, {6, 53, false}} {
		frame := ipv4Frame(tc.proto, tc.port)
		if got := Run(prog, frame, len(frame)) != 0; got != tc.want {
			t.Errorf("proto %d port %d: match %v, want %v", tc.proto, tc.port, got, tc.want)
		}
	}
}

// ipv4Frame is an Ethernet frame of IPv4 protocol proto from and to port.
func ipv4Frame(proto byte, port uint16) []byte {
	f := make([]byte, 14+20+8)
	f[12], f[13] = 0x08, 0x00
	ip := f[14:]
	ip[0], ip[3], ip[8], ip[9] = 0x45, 28, 64, proto
	copy(ip[12:], []byte{198, 18, 0, 1, 198, 18, 0, 2})
	l4 := ip[20:]
	l4[0], l4[1], l4[2], l4[3] = byte(port>>8), byte(port), byte(port>>8), byte(port)
	return f
}

// FuzzParseSet: any input gives a set or a positioned error, never a
// panic, and every entry parses back to itself.
func FuzzParseSet(f *testing.F) {
	for _, seed := range []string{"198.18.0.1\n198.18.0.0/15 # c\n", "fd00:beef::/64\n80\n1-2\n", "02:be:ef:00:00:01\n", "x y\n", "10.0.0.1/8"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSet("f", "f.txt", strings.NewReader(text))
		if err != nil {
			var se *SetError
			if errors.As(err, &se) && (se.Line < 1 || se.Column < 1) {
				t.Fatalf("%q: error at line %d column %d", text, se.Line, se.Column)
			}
			return
		}
		for _, e := range s.Entries {
			again, err := parseSetEntry(e.String())
			if err != nil || again.key() != e.key() {
				t.Fatalf("%q: entry %q parses back as %v, %v", text, e.String(), again, err)
			}
		}
	})
}

// TestParseSetInChunks: a file read in chunks gives the entries, their
// lines and the first error of the whole file, as read in one piece.
func TestParseSetInChunks(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "10.%d.%d.0/24 # %d\n\n", i/256, i%256, i)
	}
	text := b.String()
	for _, n := range []int{1, 2, 3, 7} {
		chunks := splitLines(text, n, 0)
		var all []SetEntry
		for _, c := range chunks {
			part, err := parseSetLines(c.text, c.firstLine)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, part...)
		}
		whole, err := parseSetLines(text, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(all, whole) {
			t.Errorf("%d chunks: entries differ from one piece", n)
		}
	}
	third := strings.IndexByte(text[len(text)/3:], '\n') + len(text)/3 + 1
	bad := text[:third] + "nonsense\n" + text[third:] + "10.0.0.1/8\n"
	big := strings.Repeat("# padding to read in chunks\n", minParallelSet/27) + bad
	_, err := ParseSet("s", "s.txt", strings.NewReader(big))
	var se *SetError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "nonsense") || se.File != "s.txt" {
		t.Fatalf("error %v, want the first bad line, \"nonsense\"", err)
	}
	want := strings.Count(big[:strings.Index(big, "nonsense")], "\n") + 1
	if se.Line != want {
		t.Errorf("error at line %d, want %d", se.Line, want)
	}
}
