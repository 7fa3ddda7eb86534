package capture

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// A stopping capture releases kernel objects whose system calls work
// for up to a few hundred microseconds, such as unmapping a ring. Made
// through the Go scheduler, such a call outlasts the monitor's 20 us
// patience and the processor is handed to another thread, which the
// runtime first creates; made raw, the call just runs. Nothing else has
// to run meanwhile at the end of a capture.
//
// A call that sleeps is the opposite case: closing a packet socket, or
// the link that holds an XDP or tcx program, waits for an RCU grace
// period, well under a millisecond where the kernel expedites them and
// 20-40 ms where it does not. Made raw, it leaves the monitor polling
// every 20 us, a context switch each time, for as long as the close
// sleeps (0.5 ms of CPU per stop measured); through the scheduler
// (closeSleeping), the monitor hands the processor off once and goes back
// to sleep.

// closeSleeping closes fd, a descriptor whose close may sleep.
func closeSleeping(fd int) error { return unix.Close(fd) }

// rawMunmap unmaps mem, which rawMmap mapped.
func rawMunmap(mem []byte) error {
	if len(mem) == 0 {
		return nil
	}
	_, _, errno := unix.RawSyscall(unix.SYS_MUNMAP, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// rawMmap maps length bytes of fd at offset, for rawMunmap to unmap (the
// unix package's Munmap only unmaps what its own Mmap mapped).
func rawMmap(fd int, offset int64, length int, prot, flags int) ([]byte, error) {
	p, err := unix.MmapPtr(fd, offset, nil, uintptr(length), prot, flags)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), length), nil
}
