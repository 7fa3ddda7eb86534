package capture

import (
	"errors"
	"fmt"
	"os"

	"slices"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// BPFPermissionError is returned when the process may not load or attach
// eBPF programs. It wraps os.ErrPermission.
type BPFPermissionError struct {
	Interface string
	Op        string
	Err       error
}

func (e *BPFPermissionError) Error() string {
	return fmt.Sprintf("%s: %s: %v: eBPF capture needs CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON: run as root", e.Interface, e.Op, e.Err)
}

// Unwrap lets errors.Is match os.ErrPermission and the cause.
func (e *BPFPermissionError) Unwrap() []error { return []error{os.ErrPermission, e.Err} }

// bpfError wraps an error of loading or attaching, naming the missing
// privilege when that is the cause.
func bpfError(name, op string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &BPFPermissionError{Interface: name, Op: op, Err: err}
	}
	return fmt.Errorf("capture: %s: %s: %w", name, op, err)
}

// ErrXDPBusy is wrapped by the error OpenHook returns when another XDP
// program holds the interface.
var ErrXDPBusy = errors.New("another XDP program is attached")

// xdpAttachError explains a refused XDP attachment: another program
// attached (named by id and name, from netlink), or a driver without
// native XDP.
func xdpAttachError(target captureTarget, mode XDPMode, err error) error {
	switch {
	case errors.Is(err, unix.EBUSY), errors.Is(err, unix.EEXIST):
		return fmt.Errorf("capture: %s: %w%s: detach it (ip link set dev %s xdp off) or capture with tcx",
			target.name, ErrXDPBusy, attachedXDP(target.index), target.name)
	case mode == XDPModeNative && (errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.EINVAL)):
		return fmt.Errorf("capture: %s: the driver has no native XDP (%v): use generic mode", target.name, err)
	}
	return bpfError(target.name, "attaching to XDP", err)
}

// attachedXDP describes the XDP program netlink reports on an interface:
// " (id 42, name foo, generic mode)", or "" when it cannot tell.
func attachedXDP(index int) string {
	list, err := Interfaces()
	i := slices.IndexFunc(list, func(ifc Interface) bool { return ifc.Index == index })
	if err != nil || i < 0 || list[i].XDPProgram == 0 {
		return ""
	}
	id, mode := list[i].XDPProgram, uint32(list[i].XDPMode)
	name := ""
	if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
		if info, err := p.Info(); err == nil && info.Name != "" {
			name = ", name " + info.Name
		}
		p.Close()
	}
	return fmt.Sprintf(" (id %d%s, %s mode)", id, name, xdpAttachModeName(mode))
}

// xdpAttachModeName names IFLA_XDP_ATTACHED's values.
func xdpAttachModeName(m uint32) string {
	switch m {
	case 1:
		return "native"
	case 2:
		return "generic"
	case 3:
		return "offload"
	case 4:
		return "multiple"
	}
	return "unknown"
}
