package capture

import (
	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
)

// attachEBPF attaches the kernel's part of the filter lowered to an eBPF
// socket filter. The socket keeps the program; its descriptor here goes.
// When the kernel refuses it, the feature probe names what it lacks.
func attachEBPF(fd int, p filter.Program, sets map[string]*filter.Set) (map[string]*ebpf.Map, error) {
	maps, err := bpf.SetMaps(p, sets)
	if err != nil {
		return nil, err
	}
	prog, loaded, err := bpf.LoadSocketFilter(p, maps)
	if err != nil {
		// Probing costs a program load: only to explain a failure.
		if perr := bpf.ProbeSocketFilter(); perr != nil {
			return nil, perr
		}
		return nil, err
	}
	defer prog.Close()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD()); err != nil {
		closeMaps(loaded)
		return nil, err
	}
	return loaded, nil
}

func closeMaps(maps map[string]*ebpf.Map) {
	for _, m := range maps {
		m.Close()
	}
}
