package filter

import (
	"fmt"
	"testing"

	"github.com/weircap/weir/pcap"
)

// TestKernelAcceptsOptimizedPrograms attaches weir's optimized programs:
// every golden expression's, and long chains laid out with copied
// returns, up to the kernel's size limit.
func TestKernelAcceptsOptimizedPrograms(t *testing.T) {
	programs, _ := optimizedGoldens(t)
	for _, g := range programs {
		if !kernelOnlyRefusal(g.weir) {
			kernelAgrees(t, g.entry.name(), g.weir)
		}
	}
	for _, n := range []int{100, 200, 1000, 1300} {
		p, err := Compile(hostsExpr(n), Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
		if err != nil {
			t.Fatalf("%d hosts: %v", n, err)
		}
		if !kernelAgrees(t, fmt.Sprintf("%d hosts (%d instructions)", n, len(p)), p) {
			t.Errorf("%d hosts: the kernel refuses weir's program", n)
		}
	}
}
