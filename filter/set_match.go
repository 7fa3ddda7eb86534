package filter

import (
	"net/netip"
	"slices"
)

// setIndex answers lookups in one set the way the kernel's maps do: the
// longest matching prefix for addresses, exact ports and MAC addresses.
type setIndex struct {
	v4    prefixIndex[[4]byte]
	v6    prefixIndex[[16]byte]
	ports [65536 / 64]uint64
	macs  map[[6]byte]struct{}
}

// prefixIndex holds networks by prefix length.
type prefixIndex[K [4]byte | [16]byte] struct {
	lengths []int // distinct lengths, longest first
	byLen   map[int]map[K]struct{}
}

func (x *prefixIndex[K]) add(p netip.Prefix, key K) {
	if x.byLen == nil {
		x.byLen = map[int]map[K]struct{}{}
	}
	m := x.byLen[p.Bits()]
	if m == nil {
		m = map[K]struct{}{}
		x.byLen[p.Bits()] = m
		x.lengths = append(x.lengths, p.Bits())
		slices.Sort(x.lengths)
		slices.Reverse(x.lengths)
	}
	m[key] = struct{}{}
}

func (x *prefixIndex[K]) contains(addr netip.Addr, key func(netip.Prefix) K) bool {
	for _, n := range x.lengths {
		p, _ := addr.Prefix(n)
		if _, ok := x.byLen[n][key(p)]; ok {
			return true
		}
	}
	return false
}

// index returns the set's lookup index, built on first use.
func (s *Set) index() *setIndex {
	s.indexOnce.Do(func() { s.idx = buildSetIndex(s.Entries) })
	return s.idx
}

func buildSetIndex(entries []SetEntry) *setIndex {
	x := &setIndex{macs: map[[6]byte]struct{}{}}
	for _, e := range entries {
		switch e.Kind {
		case SetPort, SetPortRange:
			for p := int(e.Port); p <= int(e.LastPort); p++ {
				x.ports[p/64] |= 1 << (p % 64)
			}
		case SetMAC:
			x.macs[e.MAC] = struct{}{}
		default:
			if p := e.Prefix(); !e.IPv6 {
				x.v4.add(p, p.Addr().As4())
			} else {
				x.v6.add(p, p.Addr().As16())
			}
		}
	}
	return x
}

// Contains reports whether key, packet bytes of a lookup of kind k, is in
// the set.
func (s *Set) Contains(k LookupKind, key []byte) bool {
	x := s.index()
	switch k {
	case LookupIPv4:
		return x.v4.contains(netip.AddrFrom4([4]byte(key)), func(p netip.Prefix) [4]byte { return p.Addr().As4() })
	case LookupIPv6:
		return x.v6.contains(netip.AddrFrom16([16]byte(key)), func(p netip.Prefix) [16]byte { return p.Addr().As16() })
	case LookupPort:
		p := int(key[0])<<8 | int(key[1])
		return x.ports[p/64]&(1<<(p%64)) != 0
	case LookupMAC:
		_, ok := x.macs[[6]byte(key)]
		return ok
	}
	return false
}
