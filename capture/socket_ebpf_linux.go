package capture

import (
	"golang.org/x/sys/unix"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
)

// attachEBPF attaches the kernel's part of the filter lowered to an eBPF
// socket filter. The socket keeps the program; its descriptor here goes.
func attachEBPF(fd int, p filter.Program) error {
	if err := bpf.ProbeSocketFilter(); err != nil {
		return err
	}
	prog, err := bpf.LoadSocketFilter(p)
	if err != nil {
		return err
	}
	defer prog.Close()
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD())
}
