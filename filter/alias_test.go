package filter

import (
	"os/exec"
	"slices"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// aliasPairs are two spellings of one filter: operator symbols and words,
// named and numeric values, a backslash making a keyword a name, address
// notations, and qualifiers libpcap infers. libpcap compiles each pair to
// one program; so must weir.
var aliasPairs = []struct{ a, b string }{
	{"tcp && port 80", "tcp and port 80"},
	{"tcp || udp", "tcp or udp"},
	{"! tcp", "not tcp"},
	{"!tcp && !udp || icmp", "not tcp and not udp or icmp"},
	{"(tcp)", "tcp"},
	{"ether proto \\ip", "ip"},
	{"ether proto \\ip", "ether proto 0x800"},
	{"link proto \\ip", "ether proto 2048"},
	{"ether proto \\ip6", "ip6"},
	{"ether proto \\arp", "arp"},
	{"ether proto \\rarp", "rarp"},
	{"ether proto \\decnet", "decnet"},
	{"ether proto \\atalk", "atalk"},
	{"ether proto \\aarp", "aarp"},
	{"ether proto \\lat", "lat"},
	{"ether proto \\mopdl", "mopdl"},
	{"ether proto \\moprc", "moprc"},
	{"ether proto \\sca", "sca"},
	{"ether proto \\stp", "stp"},
	{"ether proto \\ipx", "ipx"},
	{"ether proto \\netbeui", "netbeui"},
	{"ether proto \\iso", "iso"},
	{"iso proto \\isis", "isis"},
	{"iso proto 0x83", "isis"},
	{"iso proto \\esis", "esis"},
	{"iso proto \\clnp", "clnp"},
	{"ip proto 6", "ip proto \\tcp"},
	{"ip proto 17", "ip proto \\udp"},
	{"proto \\tcp", "proto 6"},
	{"ip6 proto 58", "ip6 proto \\ipv6-icmp"},
	{"ip proto 112", "vrrp"},
	{"vrrp", "carp"},
	{"ip6 protochain 6", "ip6 protochain \\tcp"},
	{"protochain 17", "protochain \\udp"},
	{"ip protochain 51", "ip protochain \\ah"},
	{"port http", "tcp port 80"},
	{"tcp port 22", "tcp port ssh"},
	{"port 53", "port domain"},
	{"udp portrange 53-53", "udp portrange domain-domain"},
	{"icmp[icmptype] = icmp-echo", "icmp[0] = 8"},
	{"icmp[icmptype] == icmp-echoreply", "icmp[0] = 0"},
	{"icmp6[icmp6type] = icmp6-echo", "icmp6[0] = 128"},
	{"tcp[tcpflags] & tcp-syn != 0", "tcp[13] & 2 != 0"},
	{"tcp[tcpflags] = tcp-fin", "tcp[13] = 1"},
	{"host 10.0.0.1", "host 0x0a000001"},
	{"host 10.0.0.1", "host 167772161"},
	{"src or dst host 10.0.0.1", "host 10.0.0.1"},
	{"host 10.0.0.1 or 10.0.0.2", "host 10.0.0.1 or host 10.0.0.2"},
	{"tcp port 80 or 443", "tcp port 80 or tcp port 443"},
	{"net 10", "net 10.0.0.0/8"},
	{"net 10.0.0.0 mask 255.0.0.0", "net 10.0.0.0/8"},
	{"net 192.168", "net 192.168.0.0/16"},
	{"ether host 00:11:22:33:44:55", "ether host 0011.2233.4455"},
	{"ether host 00:11:22:33:44:55", "ether host 00-11-22-33-44-55"},
	{"ether host 00:11:22:33:44:55", "ether host 0:11:22:33:44:55"},
	{"ether broadcast", "ether dst ff:ff:ff:ff:ff:ff"},
	{"broadcast", "ether broadcast"},
	{"link broadcast", "ether broadcast"},
	{"multicast", "ether multicast"},
	{"decnet host 1.4", "decnet host 1028"},
	{"decnet src 1.4", "decnet src host 1.4"},
	{"decnet host 1.4", "decnet src or dst 1.4"},
	{"llc ui", "llc UI"},
	{"llc rnr", "llc rulenum"},
	{"llc s", "llc S"},
}

// TestAliasesCompileIdentically demands one program per pair, optimized
// and not.
func TestAliasesCompileIdentically(t *testing.T) {
	for _, pair := range aliasPairs {
		for _, optimize := range []bool{false, true} {
			cfg := Config{LinkType: pcap.LinkTypeEthernet, Resolver: offlineResolver{}, Optimize: optimize}
			a, err := Compile(pair.a, cfg)
			if err != nil {
				t.Errorf("%q: %v", pair.a, err)
				continue
			}
			b, err := Compile(pair.b, cfg)
			if err != nil {
				t.Errorf("%q: %v", pair.b, err)
				continue
			}
			if !slices.Equal(a, b) {
				t.Errorf("optimize=%v: %q and %q differ:\n%s", optimize, pair.a, pair.b,
					lineDiff(Dump(a, DumpAssembly), Dump(b, DumpAssembly)))
			}
		}
	}
}

// TestAliasesAreLibpcapAliases checks the table itself: tcpdump prints one
// program for both spellings of each pair.
func TestAliasesAreLibpcapAliases(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	for _, pair := range aliasPairs {
		var out [2]string
		for i, expr := range []string{pair.a, pair.b} {
			b, err := exec.Command(tcpdump, "-O", "-ddd", "-y", "EN10MB", "--", expr).Output()
			if err != nil {
				t.Fatalf("tcpdump %q: %v", expr, err)
			}
			out[i] = string(b)
		}
		if out[0] != out[1] {
			t.Errorf("tcpdump compiles %q and %q differently", pair.a, pair.b)
		}
	}
}
