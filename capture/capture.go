package capture

import (
	"errors"
	"time"

	"github.com/weircap/weir/filter"
)

// ErrNotSupported is returned on systems without AF_PACKET.
var ErrNotSupported = errors.New("capture: live capture is not supported on this system")

// Direction selects packets by direction, as tcpdump -Q.
type Direction int

// Directions.
const (
	DirectionInOut Direction = iota // both (default)
	DirectionIn                     // received by this host
	DirectionOut                    // sent by this host
)

// Config describes a live capture.
type Config struct {
	// Interface is the interface name, or "any" for all of them (then the
	// link type is LINUX_SLL2, with interface index and direction).
	Interface string
	// Snaplen is the most bytes kept of each packet; 0 means 262144.
	Snaplen uint32
	// Promiscuous puts the interface in promiscuous mode (tcpdump's
	// default; -p turns it off).
	Promiscuous bool
	Direction   Direction
	// BufferSize is the ring size in bytes (tcpdump -B, given in KiB);
	// 0 picks a sensible default.
	BufferSize int
	// BlockTimeout is how long the kernel may hold a partly filled ring
	// block before handing it over; 0 picks a default (a second, as
	// libpcap under tcpdump; 100 ms with Fanout). Immediate mode (-U with
	// live capture) uses a short one.
	BlockTimeout time.Duration
	// Nanoseconds asks for nanosecond timestamps.
	Nanoseconds bool
	// Filter is the classic BPF program run in the kernel; nil keeps
	// every packet. It is attached before any packet is read, with no
	// unfiltered packet leaking in between.
	Filter filter.Program
	// EBPF runs the filter as an eBPF socket filter (SO_ATTACH_BPF,
	// lowered by bpf.Lower) instead of classic BPF; the kernel's limit of
	// 4096 classic instructions does not apply then.
	EBPF bool
	// Sets are the sets the filter's lookups name (a filter compiled with
	// filter.Config.SetLookups): the eBPF programs find them in kernel
	// maps made from them. Classic BPF has no lookups.
	Sets map[string]*filter.Set
	// Rules, when given, replace Filter: the first rule whose filter
	// matches takes the packet (bpf.RulesProgram at XDP and tcx,
	// bpf.RulesSocketFilterProgram with EBPF). Their lookups use Sets.
	Rules []Rule
	// Fanout, when above 1, opens that many sockets in one PACKET_FANOUT
	// group (hash mode), read together and merged by timestamp.
	Fanout int
}

// Stats are the kernel's counters for a capture (PACKET_STATISTICS), as
// tcpdump prints them at the end.
type Stats struct {
	Received uint64 // packets that passed the filter ("received by filter")
	Dropped  uint64 // packets the kernel dropped for want of ring space
}

// Interface describes a network interface for -D and for picking the
// default one.
type Interface struct {
	Index       int
	Name        string
	Description string
	Up          bool
	Running     bool
	Loopback    bool
	// XDPProgram is the id of the XDP program attached, 0 for none, and
	// XDPMode how (IFLA_XDP_ATTACHED: 1 native, 2 generic, 3 offload).
	XDPProgram uint32
	XDPMode    uint8
}
