package filter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// lookupSets are sets over the generated captures' addresses and ports.
func lookupSets(t *testing.T) map[string]*Set {
	return map[string]*Set{
		"hosts": mustSet(t, "hosts", "198.18.0.10\nfd00:beef::1\n198.19.200.2\n198.18.0.1\n"),
		"nets":  mustSet(t, "nets", "198.19.200.0/24\nfd00:beef::100/120\n198.18.1.20\n198.18.0.0/30\n"),
		"ports": mustSet(t, "ports", "80\n53\n1000-1100\n5432\n6000-6010\n"),
		"macs":  mustSet(t, "macs", "02:be:ef:00:00:01\n02:be:ef:00:01:02\n02:be:ef:00:00:10\n"),
		"empty": mustSet(t, "empty", ""),
	}
}

var lookupExpressions = []string{
	"host @hosts", "src host @hosts", "dst host @hosts", "src and dst host @hosts",
	"ip host @hosts", "ip6 host @hosts", "arp host @hosts", "net @nets", "src net @nets",
	"ip6 dst net @nets", "port @ports", "tcp port @ports", "udp dst port @ports",
	"sctp src port @ports", "portrange @ports", "ip6 and port @ports", "ether host @macs",
	"ether src @macs", "ether dst @macs", "host @hosts and port @ports",
	"not net @nets or tcp port @ports", "vlan and host @hosts", "host @empty or port @ports",
	"host @hosts or host @empty", "src @nets and not dst port @ports",
}

// TestSetLookupsEqualExpansion: the lookup programs, run by the VM with
// the sets, give every generated packet the verdict of the expanded
// programs, which equal tcpdump's with the entries written out.
func TestSetLookupsEqualExpansion(t *testing.T) {
	sets := lookupSets(t)
	captures := readWithWeir(t, loadDiffCaptures(t))
	compared := 0
	for ci, c := range captures {
		for _, expr := range lookupExpressions {
			for _, optimize := range []bool{false, true} {
				var errLooked error
				cfg := Config{LinkType: c.linkType, Optimize: optimize, Sets: sets, Savefile: true, SavefileBigEndian: c.bigEndian}
				expanded, errExpanded := Compile(expr, cfg)
				cfg.SetLookups = true
				var looked Program
				looked, errLooked = Compile(expr, cfg)
				if rejectsAll := errExpanded != nil && strings.Contains(errExpanded.Error(), "rejects all packets"); (errExpanded == nil || rejectsAll) != (errLooked == nil) {
					t.Errorf("%s, %q: expansion error %v, lookups error %v", c.linkType.Name(), expr, errExpanded, errLooked)
					continue
				}
				if errExpanded != nil && strings.Contains(errExpanded.Error(), "rejects all packets") {
					// The optimizer, which lookups skip, proves it; the
					// lookup program must reject every packet then.
					errExpanded, expanded = nil, Program{{Op: opRetK, K: 0}}
				} else if errExpanded != nil {
					continue
				}
				if !looked.HasLookups() && !strings.Contains(expr, "@empty") {
					t.Errorf("%s, %q: no lookup in\n%s", c.linkType.Name(), expr, Dump(looked, DumpAssembly))
				}
				vm, err := NewVMWithSets(looked, sets)
				if err != nil {
					t.Fatalf("%q: %v", expr, err)
				}
				for i, data := range c.data {
					want := Run(expanded, data, c.lengths[i])
					if got := vm.Run(data, c.lengths[i]); got != want {
						t.Errorf("capture %d (%s), %q, packet %d: lookups %d, expansion %d", ci, c.linkType.Name(), expr, i+1, got, want)
					}
					compared++
				}
			}
		}
	}
	if compared < 10000 {
		t.Errorf("only %d verdicts compared", compared)
	}
}

// TestSetLookupsTakeLargeSets: a set larger than the expansion limit
// compiles to the same few lookups, and the VM answers from it.
func TestSetLookupsTakeLargeSets(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&b, "10.%d.%d.0/24\n", i/256, i%256)
	}
	b.WriteString("198.18.0.0/15\n")
	sets := map[string]*Set{"big": mustSet(t, "big", b.String())}
	cfg := Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Sets: sets}
	if _, err := Compile("net @big", cfg); err == nil || !strings.Contains(err.Error(), "--ebpf, --xdp or --tc") {
		t.Errorf("expanding 10001 entries: %v, want the advice to use an eBPF backend", err)
	}
	cfg.SetLookups = true
	prog, err := Compile("net @big", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) > 40 {
		t.Errorf("%d instructions for one set lookup per field", len(prog))
	}
	vm, err := NewVMWithSets(prog, sets)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  [4]byte
		want bool
	}{{[4]byte{10, 39, 15, 7}, true}, {[4]byte{10, 39, 16, 7}, false}, {[4]byte{198, 19, 255, 1}, true}, {[4]byte{192, 0, 2, 1}, false}} {
		frame := ipv4Frame(17, 53)
		copy(frame[26:], tc.src[:])
		copy(frame[30:], []byte{192, 0, 2, 2})
		if got := vm.Run(frame, len(frame)) != 0; got != tc.want {
			t.Errorf("source %v: match %v, want %v", tc.src, got, tc.want)
		}
	}
	if err := Validate(prog); err == nil || !strings.Contains(err.Error(), "set lookup") {
		t.Errorf("Validate (the kernel's rules) of a lookup program: %v, want a refusal", err)
	}
	if _, err := NewVMWithSets(prog, nil); err == nil {
		t.Error("NewVMWithSets without the set accepted a lookup in it")
	}
	if got := Run(prog, ipv4Frame(17, 53), 42); got != 0 {
		t.Errorf("Run without sets: %d, want a rejection", got)
	}
}

func TestLookupDump(t *testing.T) {
	sets := map[string]*Set{"p": mustSet(t, "p", "80\n")}
	prog, err := Compile("tcp dst port @p", Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Sets: sets, SetLookups: true})
	if err != nil {
		t.Fatal(err)
	}
	dump := Dump(prog, DumpAssembly)
	for _, want := range []string{"lookup   port @0 [56]", "lookup   port @0 [x + 16]"} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %q:\n%s", want, dump)
		}
	}
}
