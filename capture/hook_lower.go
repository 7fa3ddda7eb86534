package capture

import (
	"errors"

	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
)

// lowerFilter is the filter as an eBPF fragment for the hook; no filter
// keeps snaplen bytes of every packet.
func lowerFilter(f filter.Program, h bpf.CaptureHook, snaplen uint32) (asm.Instructions, error) {
	if len(f) != 0 {
		return nil, errors.New("bpf: filters are not lowered to eBPF yet")
	}
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Imm(asm.R0, int32(snaplen)),
		asm.Ja.Label("filter_done"),
	}, nil
}
