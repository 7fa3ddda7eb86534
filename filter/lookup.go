package filter

import (
	"fmt"
	"slices"
)

// A set lookup is weir's one instruction beyond classic BPF: a conditional
// jump taken when packet bytes are in a set, which eBPF backends run as a
// map lookup and weir's VM runs itself. The kernel's classic BPF has no
// such thing: Compile emits lookups only under Config.SetLookups, and
// Validate (the kernel's rules) refuses them.
//
// Encoding: Op is ClassJmp | JmpLookup | SrcK (key at packet[offset]) or
// SrcX (key at packet[X+offset]), with the LookupKind in the high byte; K
// is the set's index in SetNames (high 16 bits) and the offset (low 16).
// As any load, a key past the end of the packet rejects it.

// JmpLookup is the jump operation of a set lookup.
const JmpLookup uint16 = 0xe0

// LookupKind is what a set lookup reads and how it matches.
type LookupKind uint8

// Lookup kinds.
const (
	LookupIPv4 LookupKind = 1 // 4 bytes: in one of the set's IPv4 networks (longest prefix)
	LookupIPv6 LookupKind = 2 // 16 bytes: in one of its IPv6 networks
	LookupPort LookupKind = 3 // 2 bytes, network order: one of its ports or ranges
	LookupMAC  LookupKind = 4 // 6 bytes: one of its MAC addresses
)

var lookupWidths = [...]int{LookupIPv4: 4, LookupIPv6: 16, LookupPort: 2, LookupMAC: 6}

var lookupNames = [...]string{LookupIPv4: "ip", LookupIPv6: "ip6", LookupPort: "port", LookupMAC: "mac"}

// Width is how many packet bytes the lookup reads.
func (k LookupKind) Width() int { return lookupWidths[k] }

func (k LookupKind) String() string {
	if k < LookupIPv4 || k > LookupMAC {
		return fmt.Sprintf("lookup kind %d", uint8(k))
	}
	return lookupNames[k]
}

// Lookup is a decoded set lookup.
type Lookup struct {
	Kind    LookupKind
	Set     int    // index in SetNames
	Offset  uint32 // of the key, from the packet's start or from X
	Indexed bool   // the key is at X+Offset
}

// maxLookupOffset is the largest offset a lookup encodes.
const maxLookupOffset = 0xffff

// AsLookup decodes ins when it is a set lookup.
func (ins Instruction) AsLookup() (Lookup, bool) {
	if ins.Op&0xff&^SrcX != ClassJmp|JmpLookup {
		return Lookup{}, false
	}
	kind := LookupKind(ins.Op >> 8)
	if kind < LookupIPv4 || kind > LookupMAC {
		return Lookup{}, false
	}
	return Lookup{Kind: kind, Set: int(ins.K >> 16), Offset: ins.K & maxLookupOffset, Indexed: ins.Op&SrcX != 0}, true
}

// lookupOp is the opcode of a lookup of kind k.
func lookupOp(k LookupKind, indexed bool) uint16 {
	op := uint16(k)<<8 | ClassJmp | JmpLookup
	if indexed {
		op |= SrcX
	}
	return op
}

// HasLookups reports whether p holds a set lookup.
func (p Program) HasLookups() bool {
	return slices.ContainsFunc(p, func(ins Instruction) bool {
		_, ok := ins.AsLookup()
		return ok
	})
}

// SetNames lists the names of sets in the order lookups number them.
func SetNames(sets map[string]*Set) []string {
	names := make([]string, 0, len(sets))
	for name := range sets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// lookupKey returns the key bytes of l in data, or false past the end.
func lookupKey(l Lookup, data []byte, x uint32) ([]byte, bool) {
	off := uint64(l.Offset)
	if l.Indexed {
		off += uint64(x)
	}
	end := off + uint64(l.Kind.Width())
	if end > uint64(len(data)) {
		return nil, false
	}
	return data[off:end], true
}
