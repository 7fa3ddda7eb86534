package filter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/weircap/weir/pcap"
)

// hostsExpr is "host 198.18.0.1 or host 198.18.0.2 or ..." with n terms.
func hostsExpr(n int) string {
	terms := make([]string, n)
	for i := range terms {
		terms[i] = fmt.Sprintf("host 198.18.%d.%d", (i+1)/256, (i+1)%256)
	}
	return strings.Join(terms, " or ")
}

// BenchmarkCompileHosts measures optimized compiles of long "or" chains.
// The 10000-term program needs more instructions than the kernel takes,
// so its compile ends in the size check, after optimizing and laying out.
func BenchmarkCompileHosts(b *testing.B) {
	for _, n := range []int{100, 200, 1000, 10000} {
		expr := hostsExpr(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			cfg := Config{LinkType: pcap.LinkTypeEthernet, Optimize: true}
			for b.Loop() {
				_, err := Compile(expr, cfg)
				if err != nil && !strings.Contains(err.Error(), "kernel's limit") {
					b.Fatal(err)
				}
			}
		})
	}
}
