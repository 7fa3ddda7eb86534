package capture

import (
	"encoding/binary"

	"github.com/weircap/weir/filter"
)

// A program the kernel refused runs in user space, on the frame rebuilt
// from the ring. The kernel's ancillary values (the packet's protocol,
// type, interface, VLAN tag kept aside...) are not in that frame: when the
// program reads them, userProgram moves its packet loads metadataLen bytes
// further and turns each ancillary load into a load of a word of the
// metadata that putMetadata writes in front of the frame. libpcap's
// user-space filter knows only the two VLAN values; this gives every
// value the kernel would, so the verdict is the kernel's.

// metadataWords are the ancillary values offered, in order (SKF_AD_*
// offsets from SKF_AD_OFF).
var metadataWords = [metadataWordCount]uint32{
	skfAdProtocol,
	skfAdPktType,
	skfAdIfindex,
	skfAdHAType,
	skfAdVLANTag,
	skfAdVLANTagPresent,
	skfAdVLANTPID,
}

const metadataWordCount = 7

// metadataLen is the bytes of metadata in front of the frame.
const metadataLen = 4 * metadataWordCount

// metadataSlot is the offset in the metadata of an ancillary value.
func metadataSlot(ad uint32) (uint32, bool) {
	for i, w := range metadataWords {
		if w == ad {
			return uint32(4 * i), true
		}
	}
	return 0, false
}

// ancillaryLoad reports whether ins loads an ancillary value offered in
// the metadata, and its offset there.
func ancillaryLoad(ins filter.Instruction) (uint32, bool) {
	if ins.Op&0x07 != filter.ClassLd || ins.Op&0xe0 != filter.ModeAbs || ins.K < skfAdOff {
		return 0, false
	}
	return metadataSlot(ins.K - skfAdOff)
}

// userProgram is p as it runs in user space: unchanged when it reads no
// ancillary value, otherwise rewritten to read the metadata in front of
// the frame (metadata is then true). Kernel special offsets other than the
// offered values stay as they are and reject, as in libpcap.
func userProgram(p filter.Program) (prog filter.Program, metadata bool) {
	for _, ins := range p {
		if _, ok := ancillaryLoad(ins); ok {
			metadata = true
			break
		}
	}
	if !metadata {
		return p, false
	}
	out := append(filter.Program(nil), p...)
	for i := range out {
		ins := &out[i]
		if slot, ok := ancillaryLoad(*ins); ok {
			// The kernel gives the whole value whatever the load's size.
			*ins = filter.Instruction{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: slot}
			continue
		}
		class, mode := ins.Op&0x07, ins.Op&0xe0
		if class != filter.ClassLd && class != filter.ClassLdx {
			continue
		}
		if mode != filter.ModeAbs && mode != filter.ModeInd && mode != filter.ModeMsh {
			continue
		}
		if ins.K < skfSpecialBase {
			ins.K += metadataLen
		}
	}
	return out, true
}

// putMetadata writes the ancillary values of packet f (block b) into dst,
// big-endian words as loads read them, in metadataWords' order.
func putMetadata(dst, b []byte, f *frame) {
	a := parseLinkAddr(b, f.Offset)
	var tci, present, tpid uint32
	if f.tagged() {
		tci, present, tpid = f.VLANTCI&0xffff, 1, uint32(vlanTPID(f))
	}
	values := [metadataWordCount]uint32{
		uint32(a.Protocol), uint32(a.PktType), uint32(a.Ifindex), uint32(a.HAType), tci, present, tpid,
	}
	for i, v := range values {
		binary.BigEndian.PutUint32(dst[4*i:], v)
	}
}
