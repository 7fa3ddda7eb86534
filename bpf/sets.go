package bpf

import (
	"encoding/binary"
	"fmt"

	"github.com/weircap/weir/filter"
)

// SetMap is one map of a program's set lookups, as data: its name (the
// lowered lookups' reference), what it holds, and its keys. Every value is
// the byte 1; a lookup only asks whether the key is there.
type SetMap struct {
	Name    string
	Kind    filter.LookupKind
	KeySize uint32
	// Keys holds the keys back to back, KeySize bytes each: for an LPM
	// trie the prefix length (a host-order u32) then the address; a
	// port's two bytes in network order; a MAC address's six.
	Keys []byte
	// MaxEntries leaves room for the set to grow when it is reloaded.
	MaxEntries uint32
}

// Len is the number of keys.
func (m SetMap) Len() int { return len(m.Keys) / int(m.KeySize) }

// LPM reports whether the map is an LPM trie (else a hash map).
func (m SetMap) LPM() bool { return isPrefixLookup(m.Kind) }

// minSetMapEntries is the least room a set map has.
const minSetMapEntries = 1024

// SetMaps lists the maps p's lookups use, filled from sets (numbered as
// filter.SetNames numbers them).
func SetMaps(p filter.Program, sets map[string]*filter.Set) ([]SetMap, error) {
	names := filter.SetNames(sets)
	type use struct {
		set  int
		kind filter.LookupKind
	}
	seen := map[use]bool{}
	var maps []SetMap
	for i, ins := range p {
		lk, ok := ins.AsLookup()
		if !ok || seen[use{lk.Set, lk.Kind}] {
			continue
		}
		seen[use{lk.Set, lk.Kind}] = true
		if lk.Set >= len(names) {
			return nil, fmt.Errorf("bpf: instruction %d looks up set %d of %d", i, lk.Set, len(names))
		}
		maps = append(maps, BuildSetMaps(lk.Set, lk.Kind, sets[names[lk.Set]])...)
	}
	return maps, nil
}

// BuildSetMaps gathers the entries of set (numbered index) that a lookup
// of kind k finds, into the maps of setParts(k).
func BuildSetMaps(index int, k filter.LookupKind, set *filter.Set) []SetMap {
	maps := make([]SetMap, setParts(k))
	for part := range maps {
		maps[part] = buildSetMap(SetMapName(index, k, part), k, set, part)
	}
	return maps
}

// inPart reports whether an address entry belongs in part of a split
// address map.
func inPart(e *filter.SetEntry, k filter.LookupKind, part int) bool {
	b, split := splitBytes[k]
	if !split || int(e.Bits) <= 8*b+7 {
		return true // too short to fix the bit: in both
	}
	return int(e.Addr[b]&1) == part
}

// buildSetMap gathers the entries of one map.
func buildSetMap(name string, k filter.LookupKind, set *filter.Set, part int) SetMap {
	m := SetMap{Name: name, Kind: k, KeySize: uint32(k.Width())}
	if m.LPM() {
		m.KeySize += 4
	}
	seenPort := map[uint16]bool{}
	for i := range set.Entries {
		e := &set.Entries[i]
		if (e.Kind == filter.SetAddress || e.Kind == filter.SetPrefix) && !inPart(e, k, part) {
			continue
		}
		switch {
		case k == filter.LookupPort && (e.Kind == filter.SetPort || e.Kind == filter.SetPortRange):
			for p := int(e.Port); p <= int(e.LastPort); p++ {
				if !seenPort[uint16(p)] {
					seenPort[uint16(p)] = true
					m.Keys = binary.BigEndian.AppendUint16(m.Keys, uint16(p))
				}
			}
		case k == filter.LookupMAC && e.Kind == filter.SetMAC:
			m.Keys = append(m.Keys, e.MAC[:]...)
		case k == filter.LookupIPv4 && (e.Kind == filter.SetAddress || e.Kind == filter.SetPrefix) && !e.IPv6:
			m.Keys = binary.NativeEndian.AppendUint32(m.Keys, uint32(e.Bits))
			m.Keys = append(m.Keys, e.Prefix().Addr().AsSlice()...)
		case k == filter.LookupIPv6 && (e.Kind == filter.SetAddress || e.Kind == filter.SetPrefix) && e.IPv6:
			m.Keys = binary.NativeEndian.AppendUint32(m.Keys, uint32(e.Bits))
			m.Keys = append(m.Keys, e.Prefix().Addr().AsSlice()...)
		}
	}
	m.MaxEntries = uint32(max(2*m.Len(), minSetMapEntries))
	return m
}
