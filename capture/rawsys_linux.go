package capture

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// A stopping capture releases kernel objects whose system calls take a
// few hundred microseconds: detaching XDP from a device, unmapping and
// freeing a ring, closing a packet socket. Made through the Go scheduler,
// such a call outlasts the monitor's 20 us patience and the processor is
// handed to another thread, which the runtime first creates; made raw,
// the call just runs. Nothing else has to run meanwhile at the end of a
// capture.

// rawClose closes fd.
func rawClose(fd int) error {
	if _, _, errno := unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0); errno != 0 {
		return errno
	}
	return nil
}

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
