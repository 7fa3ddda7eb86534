package filter

import (
	"fmt"
	"strings"
	"testing"
)

// networksText is n distinct /24 networks, one per line.
func networksText(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d.%d.%d.0/24\n", 1+i>>16, (i>>8)&255, i&255)
	}
	return b.String()
}

// BenchmarkParseSet reads a set file of a million networks.
func BenchmarkParseSet(b *testing.B) {
	text := networksText(1_000_000)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := ParseSet("nets", "nets.txt", strings.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetContains looks an IPv4 address up in a million networks
// with /24 and /16 lengths, as weir's VM does for files.
func BenchmarkSetContains(b *testing.B) {
	set, err := ParseSet("nets", "nets.txt", strings.NewReader(networksText(1_000_000)+"198.18.0.0/16\n"))
	if err != nil {
		b.Fatal(err)
	}
	keys := [][]byte{{1, 2, 3, 4}, {198, 18, 7, 7}, {203, 0, 113, 9}}
	set.Contains(LookupIPv4, keys[0]) // builds the index
	i := 0
	for b.Loop() {
		set.Contains(LookupIPv4, keys[i%len(keys)])
		i++
	}
}
