package bpf

import (
	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
)

// Context field offsets (stable UAPI layouts).
const (
	skbLen     = 0  // __sk_buff.len
	skbData    = 76 // __sk_buff.data
	skbDataEnd = 80 // __sk_buff.data_end
	xdpData    = 0  // xdp_md.data
	xdpDataEnd = 4  // xdp_md.data_end
	xdpIfindex = 12 // xdp_md.ingress_ifindex
)

// maxPacketOffset is the verifier's MAX_PACKET_OFF: a direct packet access
// must end within it, variable part included.
const maxPacketOffset = 0xffff

// maxHelperOffset is the largest offset bpf_skb_load_bytes reads at
// (INT_MAX); larger ones are past any packet.
const maxHelperOffset = 0x7fffffff

// ancillaryBase is the kernel's SKF_AD_OFF as an unsigned offset.
const ancillaryBase = 0xfffff000

// lowerLoad is LD and LDX in every mode.
func (l *lowerer) lowerLoad(ins filter.Instruction) error {
	dst := regA
	if filter.Class(ins.Op) == filter.ClassLdx {
		dst = regX
	}
	size := loadSize(ins.Op)
	switch ins.Op & 0xe0 {
	case filter.ModeImm:
		l.emit(asm.Mov.Imm32(dst, int32(ins.K)))
	case filter.ModeMem:
		if ins.K >= filter.MemWords {
			l.reject()
			return nil
		}
		l.emit(asm.LoadMem(dst, asm.R10, memSlot(ins.K), asm.Word))
	case filter.ModeLen:
		l.loadLength(dst)
	case filter.ModeAbs:
		if ins.K >= ancillaryBase {
			if name, ok := ancillaryFields[ins.K-ancillaryBase]; ok {
				return l.loadAncillary(dst, ins.K-ancillaryBase, name)
			}
		}
		l.loadPacket(dst, size, int64(ins.K))
	case filter.ModeInd:
		// X + K on 64 bits cannot wrap: both are below 1<<32.
		l.emit(asm.Mov.Imm32(asm.R4, int32(ins.K)), asm.Add.Reg(asm.R4, regX))
		l.loadPacket(dst, size, indexed)
	case filter.ModeMsh:
		l.loadPacket(dst, 1, int64(ins.K))
		l.emit(asm.And.Imm32(dst, 0xf), asm.LSh.Imm32(dst, 2))
	}
	return nil
}

// loadSize is the byte count of a classic load.
func loadSize(op uint16) int {
	switch op & 0x18 {
	case filter.SizeH:
		return 2
	case filter.SizeB:
		return 1
	}
	return 4
}

// loadLength is "len": the skb length, or the frame's length at XDP.
func (l *lowerer) loadLength(dst asm.Register) {
	if l.target == TargetXDP {
		l.emit(asm.Mov.Reg(asm.R1, regCtx), asm.FnXdpGetBuffLen.Call(), asm.Mov.Reg32(dst, asm.R0))
		return
	}
	l.emit(asm.LoadMem(dst, regCtx, skbLen, asm.Word))
}

// indexed, as a load's offset, means the offset X + K in R4.
const indexed int64 = -1

// loadPacket loads size bytes, big-endian, into dst: at knownOffset, or at
// the offset in R4 (X + K) when that is indexed. Past the packet, the
// verdict is 0.
func (l *lowerer) loadPacket(dst asm.Register, size int, knownOffset int64) {
	if l.target == TargetSocketFilter {
		l.loadWithHelper(dst, size, knownOffset)
		return
	}
	limit := int64(maxPacketOffset - size)
	variable := knownOffset == indexed
	if l.target == TargetXDP {
		switch {
		case variable:
			l.emit(asm.JGT.Imm(asm.R4, int32(limit), rejectSymbol))
		case knownOffset > limit:
			l.reject()
			return
		}
		l.loadDirect(dst, size, knownOffset, rejectSymbol)
		return
	}
	// tcx: direct access to the linear part, the helper past it.
	if !variable && knownOffset > limit {
		l.loadWithHelper(dst, size, knownOffset)
		return
	}
	slow, done := l.localSymbol("helper"), l.localSymbol("loaded")
	if variable {
		l.emit(asm.JGT.Imm(asm.R4, int32(limit), slow))
	}
	l.loadDirect(dst, size, knownOffset, slow)
	l.emit(asm.Ja.Label(done))
	l.label(slow)
	l.loadWithHelper(dst, size, knownOffset)
	l.label(done)
}

// loadDirect reads the packet between data and data_end, after checking
// that data + offset + size <= data_end, jumping to slow otherwise. The
// offset is knownOffset, or R4 when that is indexed (then the verifier knows
// R4 <= 0xffff - size).
func (l *lowerer) loadDirect(dst asm.Register, size int, knownOffset int64, slow string) {
	data, dataEnd := int16(xdpData), int16(xdpDataEnd)
	if l.target == TargetTCX {
		data, dataEnd = skbData, skbDataEnd
	}
	l.emit(
		asm.LoadMem(asm.R1, regCtx, data, asm.Word),
		asm.LoadMem(asm.R2, regCtx, dataEnd, asm.Word),
	)
	if knownOffset != indexed {
		l.emit(asm.Add.Imm(asm.R1, int32(knownOffset)))
	} else {
		l.emit(asm.Add.Reg(asm.R1, asm.R4))
	}
	l.emit(
		asm.Mov.Reg(asm.R3, asm.R1),
		asm.Add.Imm(asm.R3, int32(size)),
		asm.JGT.Reg(asm.R3, asm.R2, slow),
		asm.LoadMem(dst, asm.R1, 0, sizeOf(size)),
	)
	l.toBigEndian(dst, size)
}

// loadWithHelper copies size bytes at knownOffset, or at the offset in R4
// when that is indexed, with bpf_skb_load_bytes, which fails past the skb's
// length.
func (l *lowerer) loadWithHelper(dst asm.Register, size int, knownOffset int64) {
	if !l.skbLoadBytes(bufferOffset, size, knownOffset) {
		return
	}
	l.emit(asm.LoadMem(dst, asm.R10, bufferOffset, sizeOf(size)))
	l.toBigEndian(dst, size)
}

// skbLoadBytes copies n packet bytes at knownOffset (or at R4 when that is
// indexed) to the stack at to with bpf_skb_load_bytes; past the packet the
// verdict is 0. False when the offset is past any packet (the code then
// rejects).
func (l *lowerer) skbLoadBytes(to int16, n int, knownOffset int64) bool {
	switch {
	case knownOffset == indexed:
		l.emit(asm.JGT.Imm(asm.R4, maxHelperOffset, rejectSymbol), asm.Mov.Reg(asm.R2, asm.R4))
	case knownOffset > maxHelperOffset:
		l.reject()
		return false
	default:
		l.emit(asm.Mov.Imm32(asm.R2, int32(knownOffset)))
	}
	l.emit(
		asm.Mov.Reg(asm.R1, regCtx),
		asm.Mov.Reg(asm.R3, asm.R10),
		asm.Add.Imm(asm.R3, int32(to)),
		asm.Mov.Imm(asm.R4, int32(n)),
		asm.FnSkbLoadBytes.Call(),
		asm.JNE.Imm(asm.R0, 0, rejectSymbol),
	)
	return true
}

// toBigEndian turns the packet's bytes in dst into their big-endian value.
func (l *lowerer) toBigEndian(dst asm.Register, size int) {
	if size > 1 {
		l.emit(asm.HostTo(asm.BE, dst, sizeOf(size)))
	}
}

func sizeOf(n int) asm.Size {
	switch n {
	case 1:
		return asm.Byte
	case 2:
		return asm.Half
	}
	return asm.Word
}
