package testutil

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// KernelAccepts attaches a classic BPF program with SO_ATTACH_FILTER to a
// fresh UDP socket, which needs no privilege, and returns the kernel's
// refusal (an errno, EINVAL for a program its checker rejects) or nil.
func KernelAccepts(p []unix.SockFilter) error {
	if len(p) > 0xffff {
		return fmt.Errorf("testutil: %d instructions do not fit struct sock_fprog", len(p))
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("testutil: socket: %w", err)
	}
	defer unix.Close(fd)
	prog := unix.SockFprog{Len: uint16(len(p))}
	if len(p) > 0 {
		prog.Filter = &p[0]
	}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
}
