package testutil

import (
	"bytes"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// KernelFilter runs classic BPF programs in the kernel on arbitrary bytes,
// without privilege and without the network. It is a connected pair of
// AF_UNIX datagram sockets whose receiving end carries the program.
//
// unix_dgram_sendmsg runs the receiver's socket filter (sk_filter) on each
// datagram before queueing it, inside the sender's system call: the
// program sees the datagram's bytes from offset 0 and its length as "len".
// A program returning 0 drops the datagram silently (the send still
// succeeds); a program returning n delivers it cut to min(n, length)
// bytes (sk_filter_trim_cap). A receive right after the send therefore
// finds the verdict already made.
type KernelFilter struct {
	send, recv int
	buf        []byte
}

// NewKernelFilter opens the socket pair, with no program attached.
func NewKernelFilter() (*KernelFilter, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("testutil: socketpair: %w", err)
	}
	return &KernelFilter{send: fds[0], recv: fds[1]}, nil
}

// Close closes both sockets.
func (k *KernelFilter) Close() error {
	return errors.Join(unix.Close(k.send), unix.Close(k.recv))
}

// Attach replaces the receiving socket's program with p. It returns the
// kernel's refusal (EINVAL for a program its checker rejects) or nil.
func (k *KernelFilter) Attach(p []unix.SockFilter) error {
	if len(p) > 0xffff {
		return fmt.Errorf("testutil: %d instructions do not fit struct sock_fprog", len(p))
	}
	prog := unix.SockFprog{Len: uint16(len(p))}
	if len(p) > 0 {
		prog.Filter = &p[0]
	}
	if err := unix.SetsockoptSockFprog(k.recv, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
		return fmt.Errorf("testutil: SO_ATTACH_FILTER: %w", err)
	}
	return k.drain()
}

// Run sends data through the attached program and reports whether the
// kernel delivered it and how many bytes it kept.
func (k *KernelFilter) Run(data []byte) (kept int, delivered bool, err error) {
	if len(k.buf) <= len(data) {
		k.buf = make([]byte, len(data)+1)
	}
	n, err := unix.Write(k.send, data)
	if err != nil {
		return 0, false, fmt.Errorf("testutil: sending %d bytes: %w", len(data), err)
	}
	if n != len(data) {
		return 0, false, fmt.Errorf("testutil: sent %d of %d bytes", n, len(data))
	}
	n, _, err = unix.Recvfrom(k.recv, k.buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
	if errors.Is(err, unix.EAGAIN) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("testutil: receiving: %w", err)
	}
	// The delivered datagram must be a prefix of what was sent, or the
	// pair carried something else and every verdict would be suspect.
	if n > len(data) || !bytes.Equal(k.buf[:n], data[:n]) {
		return 0, false, fmt.Errorf("testutil: sent %d bytes, received %d that are not their prefix", len(data), n)
	}
	return n, true, nil
}

// drain discards datagrams left in the receive queue.
func (k *KernelFilter) drain() error {
	for {
		_, _, err := unix.Recvfrom(k.recv, nil, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if errors.Is(err, unix.EAGAIN) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("testutil: draining: %w", err)
		}
	}
}

// KernelVerdict runs the classic program p in the kernel on data once, as
// KernelFilter does, and reports whether the kernel delivered the bytes
// and how many it kept. An error wraps the kernel's refusal of p.
func KernelVerdict(p []unix.SockFilter, data []byte) (kept int, delivered bool, err error) {
	k, err := NewKernelFilter()
	if err != nil {
		return 0, false, err
	}
	defer k.Close()
	if err := k.Attach(p); err != nil {
		return 0, false, err
	}
	return k.Run(data)
}
