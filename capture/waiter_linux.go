package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waiter waits for the capture's sockets and for Stop through one epoll
// instance that Go's network poller watches: a waiting ReadPacket parks
// its goroutine, as a network read does, instead of blocking a thread in
// poll, which the runtime would notice and hand the thread's work to
// another thread, and back, on every wait.
//
// The sockets are edge-triggered: they signal when the kernel hands over
// a block (or reports an error), not for as long as a block is user
// space's. So a wait for one ring is not cut short by another ring whose
// packets are held back by the merge.
type waiter struct {
	epfd   int
	file   *os.File // epfd, watched by the runtime's poller
	conn   syscall.RawConn
	wakeFd int // eventfd written by Stop and Close
	events []unix.EpollEvent
	failed []int // rings whose socket reported an error in the last wait
	check  func(fd uintptr) bool
	err    error // of the last epoll_wait
	timed  bool  // a read deadline is set: deadline
	// deadline stays put until it passes (or a shorter wait is asked
	// for): moving it at every wait would leave the runtime's monitor
	// thread, which sleeps until the next timer, waking at each old one.
	deadline time.Time
}

// wakeID marks the eventfd's events; rings use their index.
const wakeID = -1

// newWaiter watches the sockets fds (ring i is fds[i]).
func newWaiter(fds []int) (w *waiter, err error) {
	w = &waiter{epfd: -1, wakeFd: -1, events: make([]unix.EpollEvent, len(fds)+1), failed: make([]int, 0, len(fds))}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if w.wakeFd, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		return nil, fmt.Errorf("capture: eventfd: %w", err)
	}
	if w.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("capture: epoll_create1: %w", err)
	}
	add := func(fd, id int) error {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(id)}
		if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return fmt.Errorf("capture: epoll_ctl: %w", err)
		}
		return nil
	}
	for i, fd := range fds {
		if err := add(fd, i); err != nil {
			return nil, err
		}
	}
	if err := add(w.wakeFd, wakeID); err != nil {
		return nil, err
	}
	// A non-blocking descriptor given to os.NewFile joins the poller.
	if err := unix.SetNonblock(w.epfd, true); err != nil {
		return nil, fmt.Errorf("capture: epoll: %w", err)
	}
	w.file = os.NewFile(uintptr(w.epfd), "epoll")
	if w.conn, err = w.file.SyscallConn(); err != nil {
		return nil, fmt.Errorf("capture: epoll: %w", err)
	}
	w.check = w.collect
	return w, nil
}

// wait returns once a socket signalled, wake was called, or at the latest
// when timeout (negative: none) has passed; a wait for the same timeout
// as the one before may end sooner, when the earlier deadline comes. failed lists the rings whose socket reported an
// error; the caller reads it (SO_ERROR).
func (w *waiter) wait(timeout time.Duration) (failed []int, err error) {
	if timeout >= 0 {
		now := time.Now()
		if !w.timed || !now.Before(w.deadline) || w.deadline.Sub(now) > timeout {
			w.timed, w.deadline = true, now.Add(timeout)
			_ = w.file.SetReadDeadline(w.deadline)
		}
	} else if w.timed {
		w.timed = false
		_ = w.file.SetReadDeadline(time.Time{})
	}
	w.failed, w.err = w.failed[:0], nil
	err = w.conn.Read(w.check)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("capture: waiting for packets: %w", err)
	}
	if w.err != nil {
		return nil, fmt.Errorf("capture: epoll_wait: %w", w.err)
	}
	return w.failed, nil
}

// collect takes the events that are there without waiting; false lets
// the runtime park the goroutine until epfd signals.
func (w *waiter) collect(uintptr) bool {
	n, err := pollNow(w.epfd, w.events)
	if err != nil {
		if err == unix.EINTR {
			return false
		}
		w.err = err
		return true
	}
	for _, ev := range w.events[:n] {
		if ev.Fd != wakeID && ev.Events&unix.EPOLLERR != 0 {
			w.failed = append(w.failed, int(ev.Fd))
		}
	}
	return n > 0
}

// pollNow is epoll_wait with a zero timeout, made as a raw system call:
// it never blocks, and the runtime's bookkeeping of a blocking call would
// wake its monitor thread, which then polls every 20 µs for as long as
// the capture is busy, a context switch each time on the capture's CPU.
func pollNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd),
		uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// wake ends a wait, now or the next one; safe from any goroutine.
func (w *waiter) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = rawWrite(w.wakeFd, one[:])
}

// close releases the epoll instance and the eventfd.
func (w *waiter) close() {
	if w.file != nil {
		w.file.Close()
	} else if w.epfd >= 0 {
		unix.Close(w.epfd)
	}
	if w.wakeFd >= 0 {
		unix.Close(w.wakeFd)
	}
}
