package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
)

// ring is one AF_PACKET socket with its mapped TPACKET_V3 receive ring.
type ring struct {
	*ringReader
	name string // the interface, for errors
	fd   int
	// userFilter is why the kernel does not run the filter, which then
	// runs in user space; nil when the kernel runs it.
	userFilter error
	// An eBPF socket filter's maps (sets, and rules' counters), and the
	// programs whose lookups they serve, for UpdateSets.
	setMaps map[string]*ebpf.Map
	kernels []filter.Program
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
	fanoutID int  // 0: no fanout group
	ebpf     bool // the filter as an eBPF socket filter
	sets     map[string]*filter.Set
	rules    []Rule // with ebpf: rules in place of the filter
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
	progs, setMaps, refused := attachPrograms(fd, spec, dir, lo)
	kernels := []filter.Program{progs.Kernel}
	if len(spec.rules) > 0 {
		kernels, setMaps, refused = attachEBPFRules(fd, spec, dir, lo)
		progs = socketPrograms{Kernel: acceptAll(spec.snaplen)} // for what follows: no user-space part
	}
	if progs.Kernel == nil || refused != nil && len(spec.rules) > 0 {
		return nil, fmt.Errorf("capture: %s: attaching the filter: %w", spec.name, refused)
	}
	defer func() {
		if err != nil {
			closeMaps(setMaps)
		}
	}()
	user, metadata := userProgram(progs.User)
	reserve := vlanTagLen
	if metadata {
		reserve += metadataLen
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_RESERVE, reserve); err != nil {
		return nil, sysError(spec.name, "setsockopt PACKET_RESERVE", err)
	}
	mem, err := mapRing(fd, spec.name, spec.geo)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			rawMunmap(mem)
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
	opt := frameOptions{mode: spec.mode, snaplen: int(spec.snaplen), loopback: lo, metadata: metadata}
	if user != nil {
		vm, err := filter.NewVMWithSets(user, spec.sets)
		if err != nil {
			return nil, fmt.Errorf("capture: %s: %w", spec.name, err)
		}
		opt.filter = vm.Run
	}
	r = &ring{ringReader: newRingReader(index, mem, spec.geo, opt), name: spec.name, fd: fd, setMaps: setMaps, kernels: kernels}
	if progs.User != nil && refused != nil {
		r.userFilter = &KernelFilterError{Interface: spec.name, Instructions: len(progs.User), Err: refused}
	}
	return r, nil
}

// attachPrograms attaches the kernel's part of the capture's filter. When
// the kernel refuses the program (too long, too big for the socket's
// optmem_max, or any other reason), it attaches an accept-all program
// instead and the filter runs in user space, as libpcap does; refused
// then says why. Kernel is nil when even that fails.
func attachPrograms(fd int, spec socketSpec, dir Direction, lo loopbackRule) (progs socketPrograms, setMaps map[string]*ebpf.Map, refused error) {
	if len(spec.rules) > 0 {
		return socketPrograms{Kernel: acceptAll(spec.snaplen)}, nil, nil // attachEBPFRules attaches them
	}
	progs = buildPrograms(spec.filter, spec.mode, spec.snaplen, dir, lo)
	if spec.ebpf {
		setMaps, err := attachEBPF(fd, progs.Kernel, spec.sets)
		if err != nil {
			return socketPrograms{}, nil, err
		}
		return progs, setMaps, nil
	}
	if len(progs.Kernel) > maxKernelInstructions {
		refused = fmt.Errorf("%d instructions, more than the kernel's limit of %d", len(progs.Kernel), maxKernelInstructions)
	} else if refused = attachCapturing(fd, progs.Kernel); refused == nil {
		return progs, nil, nil
	} else if errors.Is(refused, unix.ENOMEM) {
		refused = fmt.Errorf("%w; raise net.core.optmem_max with sysctl", refused)
	}
	progs = inUserSpace(spec.filter, spec.snaplen, dir, lo)
	if err := attachFilter(fd, progs.Kernel); err != nil {
		return socketPrograms{}, nil, err
	}
	return progs, nil, refused
}

// attachCapturing attaches the capture's own program; tests replace it to
// have the kernel refuse programs it would take.
var attachCapturing = attachFilter

// mapRing asks the kernel for a ring of geometry geo and maps it.
func mapRing(fd int, name string, geo ringGeometry) ([]byte, error) {
	req := unix.TpacketReq3{
		Block_size:       uint32(geo.BlockSize),
		Block_nr:         uint32(geo.BlockCount),
		Frame_size:       uint32(geo.FrameSize),
		Frame_nr:         uint32(geo.FrameCount),
		Retire_blk_tov:   uint32(geo.RetireTimeout / time.Millisecond),
		Sizeof_priv:      0,
		Feature_req_word: 0,
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return nil, sysError(name, "setsockopt PACKET_RX_RING", err)
	}
	mem, err := rawMmap(fd, 0, geo.Size(), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, sysError(name, "mmap", err)
	}
	prefault(mem, os.Getpagesize())
	return mem, nil
}

// close unmaps the ring and closes the socket.
func (r *ring) close() error {
	closeMaps(r.setMaps)
	err := rawMunmap(r.mem)
	if cerr := closeSleeping(r.fd); err == nil {
		err = cerr
	}
	return err
}

// stats reads and resets the kernel's counters.
func (r *ring) stats() (Stats, error) {
	var st unix.TpacketStatsV3
	size := uint32(unsafe.Sizeof(st))
	if err := rawGetsockopt(r.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS, unsafe.Pointer(&st), &size); err != nil {
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
	return rawSetsockopt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, unsafe.Pointer(&prog), unsafe.Sizeof(prog))
}

// packetsLanded returns once every packet that passed a socket's filter
// before Stop swapped it for rejectAll is written into its ring: the
// kernel delivers packets to sockets inside RCU read-side sections, and
// membarrier's MEMBARRIER_CMD_GLOBAL waits for an RCU grace period. It
// fails where that command is not offered (nohz_full kernels, seccomp).
func packetsLanded() error {
	const membarrierCmdGlobal = 1 // MEMBARRIER_CMD_GLOBAL
	if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdGlobal, 0, 0); errno != 0 {
		return errno
	}
	return nil
}

// errFanoutTaken marks a fanout group id already used differently.
var errFanoutTaken = errors.New("capture: fanout group id taken")

// rejectAll is the program that keeps nothing, attached on Stop.
var rejectAll = filter.Program{{Op: filter.ClassRet | filter.SrcK, K: 0}}

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

// updateSets refills the ring's eBPF set maps from sets.
func (r *ring) updateSets(sets map[string]*filter.Set) error {
	var maps []bpf.SetMap
	for _, k := range r.kernels {
		more, err := bpf.SetMaps(k, sets)
		if err != nil {
			return err
		}
		maps = mergeSetMaps(maps, more)
	}
	for _, m := range maps {
		em := r.setMaps[m.Name]
		if em == nil {
			return fmt.Errorf("capture: %s: no map %s in the running program", r.name, m.Name)
		}
		if err := bpf.UpdateSetMap(em, m); err != nil {
			return fmt.Errorf("capture: %s: %w", r.name, err)
		}
	}
	return nil
}
