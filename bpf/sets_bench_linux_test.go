package bpf

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/weircap/weir/filter"
)

// prefixSet is a set of n distinct IPv4 /24 networks.
func prefixSet(tb testing.TB, n int) *filter.Set {
	tb.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d.%d.%d.0/24\n", 1+i>>16, (i>>8)&0xff, i&0xff)
	}
	s, err := filter.ParseSet("nets", "nets.txt", strings.NewReader(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestSetMapLoadTime loads LPM tries of growing size and logs the time;
// the load of 1,000,000 prefixes is what the README reports.
func TestSetMapLoadTime(t *testing.T) {
	requireBPF(t)
	for _, n := range []int{1000, 100000} {
		maps := BuildSetMaps(0, filter.LookupIPv4, prefixSet(t, n))
		start := time.Now()
		loaded, err := newSetMaps(maps)
		if err != nil {
			t.Fatalf("%d prefixes: %v", n, err)
		}
		took := time.Since(start)
		var count int
		for _, em := range loaded {
			var k [8]byte
			var v uint8
			it := em.Iterate()
			for it.Next(&k, &v) {
				count++
			}
			em.Close()
		}
		if count != n {
			t.Errorf("%d prefixes loaded, want %d", count, n)
		}
		t.Logf("%d prefixes: %v", n, took)
	}
}
