package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/filter"
)

// ring is one AF_PACKET socket with its mapped TPACKET_V3 receive ring.
type ring struct {
	name    string // the interface, for errors
	err     error  // the socket's error, once seen
	index   int
	fd      int
	mem     []byte
	geo     ringGeometry
	batches []batch
	opt     batchOptions
	// free holds one token per block the reader may hand out; the
	// consumer returns a token when it gives a block back to the kernel.
	free chan struct{}
	cur  int // next block the reader looks at
}

// socketSpec is everything one socket of a capture is opened with.
type socketSpec struct {
	name     string // for errors
	ifindex  int
	cooked   bool
	promisc  bool
	dir      Direction
	geo      ringGeometry
	filter   filter.Program // as compiled, before buildPrograms
	mode     linkMode
	snaplen  uint32
	fanoutID int // 0: no fanout group
}

// openRing creates one packet socket, in an order that lets no unfiltered
// packet in: a socket of protocol 0 receives nothing until it is bound,
// so the filter and the ring are in place before bind starts the flow.
// (libpcap instead binds first and swaps a reject-all filter for the real
// one after draining the socket; binding last needs no draining.)
func openRing(spec socketSpec, index int) (r *ring, err error) {
	typ := unix.SOCK_RAW
	if spec.cooked {
		typ = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, sysError(spec.name, "socket", err)
	}
	defer func() {
		if err != nil {
			unix.Close(fd)
		}
	}()
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VERSION, unix.TPACKET_V3); err != nil {
		return nil, sysError(spec.name, "setsockopt PACKET_VERSION", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, vlanTagLen); err != nil {
		return nil, sysError(spec.name, "setsockopt PACKET_RESERVE", err)
	}
	dir := spec.dir
	if dir == DirectionIn {
		// Outgoing packets are then never copied; older kernels lack
		// the option and get a packet-type test in the filter instead.
		if unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1) == nil {
			dir = DirectionInOut
		}
	}
	lo := loopbackNone
	switch spec.ifindex {
	case 0:
		lo = loopbackAny
	case loopbackIndex:
		lo = loopbackDevice
	}
	progs, err := buildPrograms(spec.filter, spec.mode, spec.snaplen, dir, lo)
	if err != nil {
		return nil, err
	}
	if err := attachFilter(fd, progs.Kernel); err != nil {
		return nil, fmt.Errorf("capture: %s: attaching the filter: %w", spec.name, err)
	}
	r = &ring{name: spec.name, index: index, fd: fd, geo: spec.geo}
	if err := r.mapRing(spec.name); err != nil {
		return nil, err
	}
	mem := r.mem // r is nil by the time a failed return runs the defer
	defer func() {
		if err != nil {
			unix.Munmap(mem)
		}
	}()
	if spec.promisc && spec.ifindex != 0 {
		mreq := unix.PacketMreq{Ifindex: int32(spec.ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
			return nil, sysError(spec.name, "setsockopt PACKET_ADD_MEMBERSHIP", err)
		}
	}
	sa := unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: spec.ifindex}
	if err := unix.Bind(fd, &sa); err != nil {
		if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			return nil, noSuchInterface(spec.name)
		}
		return nil, sysError(spec.name, "bind", err)
	}
	// Binding to an interface that is down succeeds with ENETDOWN left
	// as the socket's error; libpcap then says the device is not up.
	if errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); err == nil && unix.Errno(errno) == unix.ENETDOWN {
		return nil, fmt.Errorf("%s: %w", spec.name, ErrInterfaceNotUp)
	}
	if spec.fanoutID != 0 {
		arg := spec.fanoutID | (unix.PACKET_FANOUT_HASH|unix.PACKET_FANOUT_FLAG_DEFRAG)<<16
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
			err = sysError(spec.name, "setsockopt PACKET_FANOUT", err)
			if index == 0 && errors.Is(err, unix.EINVAL) {
				// The first socket founds the group: EINVAL means
				// another program holds the id with other settings.
				err = fmt.Errorf("%w: %w", errFanoutTaken, err)
			}
			return nil, err
		}
	}
	r.opt = batchOptions{mode: spec.mode, snaplen: int(spec.snaplen), loopback: lo}
	if progs.User != nil {
		vm, err := filter.NewVM(progs.User)
		if err != nil {
			return nil, fmt.Errorf("capture: %s: %w", spec.name, err)
		}
		r.opt.filter = vm.Run
	}
	r.batches = make([]batch, r.geo.BlockCount)
	r.free = make(chan struct{}, r.geo.BlockCount)
	perBlock := r.geo.BlockSize / 128
	for i := range r.batches {
		r.batches[i] = batch{ring: index, block: i, refs: make([]packetRef, 0, perBlock)}
		r.free <- struct{}{}
	}
	return r, nil
}

// mapRing asks the kernel for the ring and maps it.
func (r *ring) mapRing(name string) error {
	req := unix.TpacketReq3{
		Block_size:       uint32(r.geo.BlockSize),
		Block_nr:         uint32(r.geo.BlockCount),
		Frame_size:       uint32(r.geo.FrameSize),
		Frame_nr:         uint32(r.geo.FrameCount),
		Retire_blk_tov:   uint32(r.geo.RetireTimeout / time.Millisecond),
		Sizeof_priv:      0,
		Feature_req_word: 0,
	}
	if err := unix.SetsockoptTpacketReq3(r.fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return sysError(name, "setsockopt PACKET_RX_RING", err)
	}
	mem, err := unix.Mmap(r.fd, 0, r.geo.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return sysError(name, "mmap", err)
	}
	r.mem = mem
	return nil
}

// block is the memory of block i.
func (r *ring) block(i int) []byte {
	off := i * r.geo.BlockSize
	return r.mem[off : off+r.geo.BlockSize : off+r.geo.BlockSize]
}

// blockWord is a 32-bit field of block i's descriptor, for atomic access.
func (r *ring) blockWord(i, offset int) *uint32 {
	return (*uint32)(unsafe.Pointer(&r.mem[i*r.geo.BlockSize+offset]))
}

// ready reports whether the kernel has handed block i to user space.
func (r *ring) ready(i int) bool {
	return atomic.LoadUint32(r.blockWord(i, blockStatusOffset))&statusUser != 0
}

// pending reports whether the kernel holds packets in block i that it has
// not handed over yet.
func (r *ring) pending(i int) bool {
	return atomic.LoadUint32(r.blockWord(i, blockNumPacketsOffset)) != 0
}

// release gives block i back to the kernel. Its packet count is cleared
// too: the kernel resets it only when it starts filling the block, and
// until then a stale count would look like packets in the making.
func (r *ring) release(i int) {
	atomic.StoreUint32(r.blockWord(i, blockNumPacketsOffset), 0)
	atomic.StoreUint32(r.blockWord(i, blockStatusOffset), 0)
}

// close unmaps the ring and closes the socket.
func (r *ring) close() error {
	err := unix.Munmap(r.mem)
	if cerr := unix.Close(r.fd); err == nil {
		err = cerr
	}
	return err
}

// stats reads and resets the kernel's counters.
func (r *ring) stats() (Stats, error) {
	st, err := unix.GetsockoptTpacketStatsV3(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, fmt.Errorf("capture: reading statistics: %w", err)
	}
	// With TPACKET_V3 the kernel already counts drops in tp_packets.
	return Stats{Received: uint64(st.Packets), Dropped: uint64(st.Drops)}, nil
}

// attachFilter attaches a classic BPF program.
func attachFilter(fd int, p filter.Program) error {
	ins := make([]unix.SockFilter, len(p))
	for i, in := range p {
		ins[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	prog := unix.SockFprog{Len: uint16(len(ins)), Filter: &ins[0]}
	return unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
}

// errFanoutTaken marks a fanout group id already used differently.
var errFanoutTaken = errors.New("capture: fanout group id taken")

// rejectAll is the program that keeps nothing, attached on Stop.
var rejectAll = filter.Program{{Op: filter.ClassRet | filter.SrcK, K: 0}}

// waitReadable polls fd for input for up to timeout (negative: forever)
// and, when wake is not -1, wake as well. It returns on EINTR too.
func waitReadable(fd, wake int, timeout time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if wake >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(wake), Events: unix.POLLIN})
	}
	ms := -1
	if timeout >= 0 {
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	_, err := unix.Poll(fds, ms)
	if err != nil && err != unix.EINTR {
		return fmt.Errorf("poll: %w", err)
	}
	if fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
		return socketError(fd)
	}
	return nil
}

// socketError reads the error the kernel reported on the socket.
func socketError(fd int) error {
	errno, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case err != nil:
		return fmt.Errorf("reading the socket error: %w", err)
	case unix.Errno(errno) == unix.ENETDOWN:
		return errInterfaceDown
	case errno == 0:
		return errors.New("socket error")
	}
	return unix.Errno(errno)
}

// errInterfaceDown is what the kernel reports when the interface goes
// down under the capture.
var errInterfaceDown = errors.New("the interface went down")

// sysError names the interface and the refused call; lack of privilege
// becomes a *PermissionError.
func sysError(name, op string, err error) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return &PermissionError{Interface: name, Op: op, Err: err}
	}
	return fmt.Errorf("capture: %s: %s: %w", name, op, os.NewSyscallError(op, err))
}

// htons converts a 16-bit value to network byte order for sockaddr_ll.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return hostOrder.Uint16(b[:])
}
