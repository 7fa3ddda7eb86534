package filter

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// kernelVLANExpressions exercise "vlan" as compiled for a live Ethernet
// socket, where the kernel may hold the outer tag in metadata.
var kernelVLANExpressions = []string{
	"vlan", "vlan 100", "vlan and ip", "vlan 100 and vlan 200 and ip", "vlan and tcp port 80",
	"vlan 5 or arp", "not vlan", "vlan and ip[0] = 0x45", "vlan and host 10.0.0.1",
	"vlan and vlan", "vlan 1 and pppoes and ip", "vlan and mpls 7 and ip", "ip or vlan 3",
}

var kernelVLANGolden = filepath.Join("testdata", "kernelvlan", "golden.txt")

// TestKernelVLANMatchesTcpdump compares weir's KernelVLAN programs with
// what tcpdump -O -ddd prints when it compiles for a live Ethernet
// interface (libpcap's BPF_SPECIAL_VLAN_HANDLING), recorded by -update.
func TestKernelVLANMatchesTcpdump(t *testing.T) {
	if testutil.Update() {
		writeKernelVLANGolden(t)
	}
	data, err := os.ReadFile(kernelVLANGolden)
	if err != nil {
		t.Fatal(err)
	}
	entries := strings.Split(strings.TrimSpace(string(data)), "\n\n")
	if len(entries) != len(kernelVLANExpressions) {
		t.Fatalf("%s has %d entries, want %d (run with -update)", kernelVLANGolden, len(entries), len(kernelVLANExpressions))
	}
	for i, entry := range entries {
		expr, want, _ := strings.Cut(entry, "\n")
		if expr != kernelVLANExpressions[i] {
			t.Fatalf("entry %d is %q, want %q (run with -update)", i, expr, kernelVLANExpressions[i])
		}
		p, err := Compile(expr, Config{LinkType: pcap.LinkTypeEthernet, KernelVLAN: true})
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		if err := Validate(p); err != nil {
			t.Errorf("%q: weir's program: %v", expr, err)
		}
		// Where libpcap's program reads a slot it never stored ("vlan
		// and pppoes": the type field's slot is replaced before the code
		// that fills it is placed), weir fills the slot, so the
		// programs differ there by design.
		if libpcapUnset(t, want) {
			continue
		}
		if got := strings.TrimSpace(Dump(p, DumpDecimal)); got != strings.TrimSpace(want) {
			t.Errorf("%q:\nweir:\n%s\ntcpdump -i ETH -O -ddd:\n%s", expr, got, want)
		}
	}
}

func writeKernelVLANGolden(t *testing.T) {
	tcpdump := testutil.RequireTool(t, "tcpdump", "tcpdump")
	testutil.RequireRoot(t, "CAP_NET_RAW (tcpdump -i opens an interface to compile for it)")
	iface := ethernetInterface(t)
	var b strings.Builder
	for _, expr := range kernelVLANExpressions {
		out, err := exec.Command(tcpdump, "-i", iface, "-O", "-ddd", "--", expr).Output()
		if err != nil {
			t.Fatalf("tcpdump -i %s %q: %v", iface, expr, err)
		}
		fmt.Fprintf(&b, "%s\n%s\n\n", expr, strings.TrimSpace(string(out)))
	}
	if err := os.WriteFile(kernelVLANGolden, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ethernetInterface finds an up, non-loopback interface with a MAC address.
func ethernetInterface(t *testing.T) string {
	ifaces, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 && len(ifc.HardwareAddr) == 6 {
			return ifc.Name
		}
	}
	t.Skip("no Ethernet interface to compile for")
	return ""
}

// libpcapUnset tells whether a program in -ddd form reads a scratch slot
// before storing it.
func libpcapUnset(t *testing.T, ddd string) bool {
	t.Helper()
	var p Program
	for _, line := range strings.Split(strings.TrimSpace(ddd), "\n")[1:] {
		var in Instruction
		if _, err := fmt.Sscan(line, &in.Op, &in.Jt, &in.Jf, &in.K); err != nil {
			t.Fatalf("bad -ddd line %q: %v", line, err)
		}
		p = append(p, in)
	}
	err := Validate(p)
	return err != nil && strings.Contains(err.Error(), "loaded before a store")
}
