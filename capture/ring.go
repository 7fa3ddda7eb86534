package capture

import "time"

// Layout of the kernel's TPACKET_V3 ring (linux/if_packet.h), as plain
// numbers so the block walker stays pure code.
const (
	tpacketAlignment = 16 // TPACKET_ALIGNMENT

	// struct tpacket_block_desc: version, offset_to_priv, then
	// struct tpacket_hdr_v1.
	blockStatusOffset     = 8
	blockNumPacketsOffset = 12
	blockFirstOffset      = 16
	blockLengthOffset     = 20
	blockOpenedSecOffset  = 32 // ts_first_pkt: when the kernel opened the block
	blockOpenedNsecOffset = 36
	blockDescLen          = 48 // with seq_num and the two timestamps

	// struct tpacket3_hdr.
	frameNextOffset = 0
	frameSecOffset  = 4
	frameNsecOffset = 8
	frameSnapOffset = 12
	frameLenOffset  = 16
	frameStatOffset = 20
	frameMacOffset  = 24
	frameNetOffset  = 26
	frameTCIOffset  = 32 // hv1.tp_vlan_tci
	frameTPIDOffset = 36 // hv1.tp_vlan_tpid
	frameHeaderLen  = 48

	// struct sockaddr_ll, after the aligned tpacket3_hdr.
	sockaddrLLOffset = (frameHeaderLen + tpacketAlignment - 1) &^ (tpacketAlignment - 1)
	sockaddrLLLen    = 20
	// sockaddrLLPktTypeOffset is sll_pkttype's offset in sockaddr_ll.
	sockaddrLLPktTypeOffset = 10
	// frameHeadroom is TPACKET3_HDRLEN: packet data never starts before it.
	frameHeadroom = sockaddrLLOffset + sockaddrLLLen
)

// Status bits of blocks and packets (TP_STATUS_*).
const (
	statusUser          = 1 << 0
	statusVLANValid     = 1 << 4
	statusVLANTPIDValid = 1 << 6
)

// Ring sizes. The default buffer is 4 MiB, twice libpcap's, so that its
// blocks can be 1 MiB with four to a ring: the reader wakes once per
// block, and each wake-up costs more than the packets of a small block.
// On a virtual machine whose processor idles between blocks, a wake-up
// finds its caches cold: at 1% of a veth's packets matching (20,000
// packets, 3.2 MB of ring), reading them after "listening on" cost 2.4
// ms with 512 KiB blocks (a 2 MiB ring), 1.75 ms with 1 MiB (4 MiB) and
// 1.6 ms with 2 MiB (8 MiB), which however took 25 ms instead of 5 to set
// up (order-9 pages) and more to release. Larger blocks need larger runs
// of pages, which the kernel zeroes when the ring is set up: in a VM
// whose host takes free memory back (free page reporting), those runs are
// more often memory the host must fault in again (64 MiB: 60-140 ms with
// 1 MiB blocks, 50-90 ms with 512 KiB, 10-40 ms with 256 KiB, measured on
// such a VM). A small buffer keeps four blocks, down to 64 KiB each.
//
// A block partly filled is handed over after DefaultBlockTimeout, the
// second libpcap's retire timer gets from tcpdump: each hand-over wakes
// the reader, and a capture of a few packets a second would otherwise
// wake mostly for them. Stop does not wait for it (see Source.await).
// The rings of a fanout group hand over sooner, as their merge holds
// packets back until the other rings' blocks are handed over.
const (
	DefaultBufferSize   = 4 << 20
	DefaultBlockTimeout = time.Second
	fanoutBlockTimeout  = 100 * time.Millisecond
	maxBlockSize        = 1 << 20
	minBlockSize        = 64 << 10
	minBlockCount       = 4
	// vlanTagLen is the room asked of the kernel (PACKET_RESERVE) in front
	// of each packet, to put a VLAN tag back.
	vlanTagLen = 4
)

// ringGeometry is the shape of one receive ring, as struct tpacket_req3
// wants it.
type ringGeometry struct {
	BlockSize  int
	BlockCount int
	// FrameSize and FrameCount only satisfy the kernel's checks: in
	// TPACKET_V3 packets of any size share a block.
	FrameSize     int
	FrameCount    int
	RetireTimeout time.Duration
}

// newRingGeometry sizes a ring for bufferSize bytes (0: the default) and
// packets of up to snaplen bytes. Blocks are a power of two, at least a
// page and 64 KiB, large enough for one packet of snaplen bytes, then as
// large as a quarter of the buffer up to 1 MiB, and shrink down to 64 KiB
// before the ring gets fewer than four of them.
func newRingGeometry(bufferSize int, snaplen uint32, pageSize int, timeout time.Duration) ringGeometry {
	if bufferSize <= 0 {
		bufferSize = DefaultBufferSize
	}
	if timeout <= 0 {
		timeout = DefaultBlockTimeout
	}
	if timeout < time.Millisecond {
		timeout = time.Millisecond // the kernel counts whole milliseconds
	}
	need := frameHeadroom + tpacketAlignment + vlanTagLen + 20 + int(snaplen)
	block := pageSize
	for block < minBlockSize {
		block <<= 1
	}
	for block < need && block < maxBlockSize {
		block <<= 1
	}
	for block < maxBlockSize && 2*block*minBlockCount <= bufferSize {
		block <<= 1
	}
	for block > minBlockSize && block > pageSize && bufferSize/block < minBlockCount {
		block >>= 1
	}
	count := bufferSize / block
	if count < 2 {
		count = 2
	}
	return ringGeometry{
		BlockSize:     block,
		BlockCount:    count,
		FrameSize:     block,
		FrameCount:    count,
		RetireTimeout: timeout,
	}
}

// Size is the bytes the ring maps.
func (g ringGeometry) Size() int { return g.BlockSize * g.BlockCount }

// prefaultSink keeps prefault's reads from being optimized away.
var prefaultSink byte

// prefault reads a byte of every page of a freshly mapped ring. On a
// virtual machine the first touch of each page of a mapping can trap to
// the hypervisor (microseconds each) even when the kernel has mapped it
// already; reading them all before the capture starts keeps that cost
// off the packets, and out of the reader's way during the first bursts.
func prefault(mem []byte, pageSize int) {
	var sum byte
	for i := 0; i < len(mem); i += pageSize {
		sum += mem[i]
	}
	prefaultSink = sum
}
