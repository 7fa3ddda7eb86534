package bpf

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
)

// SetMapName is the name of the map that holds the entries of kind k of
// the set numbered set (its index in filter.SetNames), part part of
// setParts(k): the reference a lowered lookup makes, and the map the
// loader must provide.
func SetMapName(set int, k filter.LookupKind, part int) string {
	return fmt.Sprintf("weir_set%d_%s%d", set, k, part)
}

// Address sets are split in two LPM tries by one bit of the address (the
// last of the first 16 bits for IPv4, of the first 32 for IPv6): the
// kernel fills an LPM trie under one lock, about a microsecond per
// prefix, and two tries fill on two processors at once, so a million
// prefixes load in half the time. A network too short to fix that bit
// goes into both.
var splitBytes = map[filter.LookupKind]int{filter.LookupIPv4: 1, filter.LookupIPv6: 3}

// setParts is how many maps hold the entries of kind k.
func setParts(k filter.LookupKind) int {
	if _, ok := splitBytes[k]; ok {
		return 2
	}
	return 1
}

// isPrefixLookup reports whether k looks up an LPM trie, whose key starts
// with the prefix length.
func isPrefixLookup(k filter.LookupKind) bool {
	return k == filter.LookupIPv4 || k == filter.LookupIPv6
}

// lowerLookup is a set lookup: the key's bytes copied from the packet to
// the stack (a key past the packet rejects it, as a load), one
// bpf_map_lookup_elem, and the jump on whether it found an entry.
func (l *lowerer) lowerLookup(ins filter.Instruction, lk filter.Lookup) {
	width := lk.Kind.Width()
	data := int16(keyOffset)
	if isPrefixLookup(lk.Kind) {
		l.emit(asm.StoreImm(asm.R10, keyOffset, int64(8*width), asm.Word))
		data += 4
	}
	offset := int64(lk.Offset)
	if lk.Indexed {
		l.emit(asm.Mov.Imm32(asm.R4, int32(lk.Offset)), asm.Add.Reg(asm.R4, regX))
		offset = indexed
	}
	l.copyPacket(data, width, offset)
	call := func(part int) {
		l.emit(
			asm.LoadMapPtr(asm.R1, 0).WithReference(SetMapName(lk.Set, lk.Kind, part)),
			asm.Mov.Reg(asm.R2, asm.R10),
			asm.Add.Imm(asm.R2, keyOffset),
			asm.FnMapLookupElem.Call(),
		)
	}
	if b, split := splitBytes[lk.Kind]; split {
		other, looked := l.localSymbol("part1"), l.localSymbol("looked")
		l.emit(
			asm.LoadMem(asm.R3, asm.R10, data+int16(b), asm.Byte),
			asm.JSet.Imm(asm.R3, 1, other),
		)
		call(0)
		l.emit(asm.Ja.Label(looked))
		l.label(other)
		call(1)
		l.label(looked)
	} else {
		call(0)
	}
	jt, jf := l.index+1+int(ins.Jt), l.index+1+int(ins.Jf)
	switch {
	case jt == jf:
		l.emit(asm.Ja.Label(insnSymbol(jt)))
	case jf == l.index+1:
		l.emit(asm.JNE.Imm(asm.R0, 0, insnSymbol(jt)))
	case jt == l.index+1:
		l.emit(asm.JEq.Imm(asm.R0, 0, insnSymbol(jf)))
	default:
		l.emit(asm.JNE.Imm(asm.R0, 0, insnSymbol(jt)), asm.Ja.Label(insnSymbol(jf)))
	}
}

// copyPacket copies width packet bytes at knownOffset (or at R4 when that
// is indexed) to the stack at dst, in packet order; past the packet the
// verdict is 0. XDP reads the packet directly; the others through
// bpf_skb_load_bytes, which also reaches a tcx packet's paged part.
func (l *lowerer) copyPacket(dst int16, width int, knownOffset int64) {
	if l.target != TargetXDP {
		l.skbLoadBytes(dst, width, knownOffset)
		return
	}
	limit := int64(maxPacketOffset - width)
	switch {
	case knownOffset == indexed:
		l.emit(asm.JGT.Imm(asm.R4, int32(limit), rejectSymbol))
	case knownOffset > limit:
		l.reject()
		return
	}
	l.emit(
		asm.LoadMem(asm.R1, regCtx, xdpData, asm.Word),
		asm.LoadMem(asm.R2, regCtx, xdpDataEnd, asm.Word),
	)
	if knownOffset == indexed {
		l.emit(asm.Add.Reg(asm.R1, asm.R4))
	} else {
		l.emit(asm.Add.Imm(asm.R1, int32(knownOffset)))
	}
	l.emit(
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Add.Imm(asm.R3, int32(width)),
		asm.JGT.Reg(asm.R3, asm.R2, rejectSymbol),
	)
	for done := 0; done < width; {
		size, n := asm.Word, 4
		if width-done < 4 {
			size, n = asm.Half, 2
		}
		l.emit(
			asm.LoadMem(asm.R3, asm.R1, int16(done), size),
			asm.StoreMem(asm.R10, dst+int16(done), asm.R3, size),
		)
		done += n
	}
}
