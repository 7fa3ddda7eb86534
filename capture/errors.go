package capture

import (
	"errors"
	"fmt"
	"os"
)

// ErrNoSuchInterface is wrapped by the error Open and FilterConfig return
// for an interface that does not exist.
var ErrNoSuchInterface = errors.New("no such interface")

// noSuchInterface reads "eth9: no such interface", as the command line
// prints it after its own name.
func noSuchInterface(name string) error {
	return fmt.Errorf("%s: %w", name, ErrNoSuchInterface)
}

// ErrInterfaceNotUp is wrapped by the error Open returns for an interface
// that is down; the message reads "eth0: interface is not up".
var ErrInterfaceNotUp = errors.New("interface is not up")

// PermissionError is returned when the process may not open a packet
// socket. It wraps os.ErrPermission.
type PermissionError struct {
	Interface string
	Op        string // the refused system call
	Err       error  // the errno
}

func (e *PermissionError) Error() string {
	binary, err := os.Executable()
	if err != nil {
		binary = "BINARY"
	}
	return fmt.Sprintf("%s: %s: %v: capturing needs CAP_NET_RAW: run as root or grant it with "+
		"setcap cap_net_raw,cap_net_admin=eip %s", e.Interface, e.Op, e.Err, binary)
}

// Unwrap lets errors.Is match os.ErrPermission and the errno.
func (e *PermissionError) Unwrap() []error { return []error{os.ErrPermission, e.Err} }

// KernelFilterError says why the kernel does not run a capture's filter.
// The capture then works as libpcap's does in that case: the kernel keeps
// every packet and the filter runs in user space, which costs a copy of
// each packet to user space and more CPU. Source.FilterRefused returns it.
type KernelFilterError struct {
	Interface    string
	Instructions int   // of the program refused
	Err          error // the kernel's refusal
}

func (e *KernelFilterError) Error() string {
	return fmt.Sprintf("%s: the kernel refused the filter of %d instructions (%v): filtering in user space",
		e.Interface, e.Instructions, e.Err)
}

func (e *KernelFilterError) Unwrap() error { return e.Err }
