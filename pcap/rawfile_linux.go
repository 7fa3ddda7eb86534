package pcap

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// localFile is a regular file whose writes are made as raw system calls.
// A write to a regular file only copies into the page cache, and the Go
// runtime's bookkeeping of a system call that may block wakes its monitor
// thread, which then polls every 20 µs for a millisecond: on a live
// capture that flushes a few times a second, those wake-ups cost more
// than the writes. Pipes, terminals and devices, which can block for as
// long as their reader likes, keep the runtime's ordinary calls.
type localFile struct{ *os.File }

// fastWriter returns f, or for a regular file a localFile around it.
func fastWriter(f *os.File) io.Writer {
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return f
	}
	return localFile{f}
}

// Write writes all of p, as os.File does.
func (f localFile) Write(p []byte) (int, error) {
	fd := f.Fd()
	done := 0
	for done < len(p) {
		n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return done, &os.PathError{Op: "write", Path: f.Name(), Err: errno}
		case n == 0:
			return done, io.ErrShortWrite
		}
		done += int(n)
	}
	return done, nil
}
