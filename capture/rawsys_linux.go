package capture

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// A stopping capture makes system calls that work for up to a few hundred
// microseconds without sleeping: unmapping a ring, swapping a socket's
// filter (the kernel checks and compiles the new one), reading its
// counters, waking the reader. Made through the Go scheduler, each wakes
// the runtime's monitor thread, which then polls every 20 us on the
// capture's core, and one that outlasts the monitor's patience has its
// processor handed to another thread, which the runtime may first create;
// made raw, the call just runs (over 35 runs, the stop and exit cost the
// same median CPU and 47 us less on average, the slow runs fewer). Nothing
// else has to run meanwhile at the end of a capture.
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

// rawSetsockopt is setsockopt(2) made raw.
func rawSetsockopt(fd, level, name int, val unsafe.Pointer, size uintptr) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), size, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// rawGetsockopt is getsockopt(2) made raw; *size is val's size, then the
// option's.
func rawGetsockopt(fd, level, name int, val unsafe.Pointer, size *uint32) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name), uintptr(val), uintptr(unsafe.Pointer(size)), 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// rawWrite is write(2) made raw, for descriptors that never block.
func rawWrite(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
