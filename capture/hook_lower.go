package capture

import (
	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
)

// lowerFilter is the filter as an eBPF fragment for the hook; no filter
// keeps snaplen bytes of every packet, as the program "ret #snaplen".
func lowerFilter(f filter.Program, h bpf.CaptureHook, snaplen uint32) (asm.Instructions, error) {
	if len(f) == 0 {
		f = filter.Program{{Op: filter.ClassRet | filter.SrcK, K: snaplen}}
	}
	return bpf.Lower(f, h.Target())
}
