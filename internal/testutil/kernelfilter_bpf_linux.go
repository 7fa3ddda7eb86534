package testutil

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// AttachBPF replaces the receiving socket's program with the loaded eBPF
// socket filter progFD (SO_ATTACH_BPF), which the kernel runs as it runs a
// classic one: its return value is the number of bytes kept.
func (k *KernelFilter) AttachBPF(progFD int) error {
	if err := unix.SetsockoptInt(k.recv, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, progFD); err != nil {
		return fmt.Errorf("testutil: SO_ATTACH_BPF: %w", err)
	}
	return k.drain()
}
