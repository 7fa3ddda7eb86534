package filter

import (
	"slices"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// The offline resolver knows "gw" (00:11:22:33:44:55; 198.18.0.254 and an
// IPv6 address), "gw2" (the same MAC; 198.18.0.254 and 198.19.0.254),
// "ethonly" (a MAC, no address) and "v6only" (a MAC, only IPv6).

// TestNamedHostsCompileAsTheirAddresses holds "gateway NAME" to its
// definition in pcap-filter(7), "ether host ETHERADDR and not host
// HOSTADDR" (every IPv4 address of the host, IPv6 ones ignored), and
// "ether host NAME" to the address /etc/ethers gives.
func TestNamedHostsCompileAsTheirAddresses(t *testing.T) {
	const mac = "00:11:22:33:44:55"
	for _, tc := range []struct{ named, addressed string }{
		{"gateway gw", "ether host " + mac + " and not host 198.18.0.254"},
		{"ip gateway gw", "ether host " + mac + " and not ip host 198.18.0.254"},
		{"arp gateway gw2", "ether host " + mac + " and not (arp host 198.18.0.254 or arp host 198.19.0.254)"},
		{"rarp gateway gw", "ether host " + mac + " and not rarp host 198.18.0.254"},
		{"gateway gw2 or tcp", "ether host " + mac + " and not (host 198.18.0.254 or host 198.19.0.254) or tcp"},
		{"vlan and gateway gw", "vlan and ether host " + mac + " and not host 198.18.0.254"},
		{"geneve and gateway gw", "geneve and ether host " + mac + " and not host 198.18.0.254"},
		{"ether host gw", "ether host " + mac},
		{"ether src gw", "ether src " + mac},
		{"ether dst host gw", "ether dst host " + mac},
		{"ether src and dst gw", "ether src and dst " + mac},
		{"link host gw", "link host " + mac},
		{"geneve and ether host gw", "geneve and ether host " + mac},
	} {
		for _, optimize := range []bool{false, true} {
			cfg := Config{LinkType: pcap.LinkTypeEthernet, Resolver: offlineResolver{}, Optimize: optimize}
			named, err := Compile(tc.named, cfg)
			if err != nil {
				t.Errorf("%q: %v", tc.named, err)
				continue
			}
			addressed, err := Compile(tc.addressed, cfg)
			if err != nil {
				t.Fatalf("%q: %v", tc.addressed, err)
			}
			if !slices.Equal(named, addressed) {
				t.Errorf("optimize=%v: %q and %q differ:\n%s", optimize, tc.named, tc.addressed,
					lineDiff(Dump(addressed, DumpAssembly), Dump(named, DumpAssembly)))
			}
		}
	}
}

func TestNamedHostErrors(t *testing.T) {
	for _, tc := range []struct {
		linkType pcap.LinkType
		expr     string
		msg      string
	}{
		{pcap.LinkTypeEthernet, "gateway nosuch", "unknown ether host 'nosuch'"},
		{pcap.LinkTypeEthernet, "gateway ethonly", "unknown host 'ethonly'"},
		{pcap.LinkTypeEthernet, "gateway v6only", "unknown host 'v6only'"},
		{pcap.LinkTypeEthernet, "tcp gateway gw", "illegal modifier of 'gateway'"},
		{pcap.LinkTypeEthernet, "ip6 gateway gw", "illegal modifier of 'gateway'"},
		{pcap.LinkTypeEthernet, "gateway 198.18.0.254", "'gateway' applied to an IPv4 address"},
		{pcap.LinkTypeEthernet, "gateway 5", "'gateway' requires a name"},
		{pcap.LinkTypeLinuxSLL, "gateway gw", "'gateway' supported only on ethernet"},
		{pcap.LinkTypeEthernet, "ether host nosuch", "unknown ether host 'nosuch'"},
		{pcap.LinkTypeEthernet, "link src nosuch", "unknown ether host 'nosuch'"},
		{pcap.LinkTypeRaw, "ether host gw", "only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name"},
		{pcap.LinkTypeEthernet, "pppoes and ether host gw", "only ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel supports link-level host name"},
		{pcap.LinkTypeEthernet, "ether addr1 gw", "'addr1' and 'address1' are only supported on 802.11"},
	} {
		_, err := Compile(tc.expr, Config{LinkType: tc.linkType, Resolver: offlineResolver{}})
		if err == nil {
			t.Errorf("%s %q compiles; want error %q", tc.linkType, tc.expr, tc.msg)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s %q: error %q, want %q", tc.linkType, tc.expr, err, tc.msg)
		}
	}
}

// TestGatewayVerdicts runs "gateway gw" on frames through and around the
// gateway's Ethernet address.
func TestGatewayVerdicts(t *testing.T) {
	gwMAC := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55}
	other := []byte{0x02, 0, 0, 0, 0, 0x09}
	frame := func(dst, src []byte, ipSrc, ipDst [4]byte) []byte {
		ip := make([]byte, 20)
		ip[0], ip[9] = 0x45, ipprotoUDP
		copy(ip[12:], ipSrc[:])
		copy(ip[16:], ipDst[:])
		return slices.Concat(dst, src, []byte{0x08, 0x00}, ip, udpHeader)
	}
	gw, far, near := [4]byte{198, 18, 0, 254}, [4]byte{203, 0, 113, 7}, [4]byte{198, 18, 0, 10}
	prog, err := Compile("gateway gw", Config{LinkType: pcap.LinkTypeEthernet, Resolver: offlineResolver{}, Optimize: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc string
		data []byte
		keep bool
	}{
		{"routed out through the gateway", frame(gwMAC, other, near, far), true},
		{"routed in through the gateway", frame(other, gwMAC, far, near), true},
		{"to the gateway itself", frame(gwMAC, other, near, gw), false},
		{"from the gateway itself", frame(other, gwMAC, gw, near), false},
		{"not through the gateway", frame(other, other, near, far), false},
	} {
		if got := Run(prog, tc.data, len(tc.data)) > 0; got != tc.keep {
			t.Errorf("%s: kept %v, want %v", tc.desc, got, tc.keep)
		}
	}
}
