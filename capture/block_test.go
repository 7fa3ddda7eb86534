package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// synthPacket is one packet of a synthetic ring block.
type synthPacket struct {
	data      []byte // bytes present, from tp_mac
	wireLen   uint32 // 0: len(data)
	sec, nsec uint32
	status    uint32
	tci       uint32
	tpid      uint16
	addr      linkAddr
	macLen    int // link header length the kernel assumed; 0 for cooked
	reserve   int // PACKET_RESERVE; 0 for vlanTagLen
}

// buildBlock lays packets out as the kernel does: block descriptor, then
// for each packet its tpacket3_hdr, sockaddr_ll and data at tp_mac, the
// network header aligned after a reserve of vlanTagLen bytes.
func buildBlock(size int, pkts []synthPacket) []byte {
	b := make([]byte, size)
	off := blockDescLen
	hostOrder.PutUint32(b[blockStatusOffset:], statusUser)
	hostOrder.PutUint32(b[blockNumPacketsOffset:], uint32(len(pkts)))
	hostOrder.PutUint32(b[blockFirstOffset:], uint32(off))
	for i, p := range pkts {
		reserve := p.reserve
		if reserve == 0 {
			reserve = vlanTagLen
		}
		netoff := align16(frameHeadroom+max(p.macLen, 16)) + reserve
		mac := netoff - p.macLen
		h := b[off:]
		wire := p.wireLen
		if wire == 0 {
			wire = uint32(len(p.data))
		}
		hostOrder.PutUint32(h[frameSecOffset:], p.sec)
		hostOrder.PutUint32(h[frameNsecOffset:], p.nsec)
		hostOrder.PutUint32(h[frameSnapOffset:], uint32(len(p.data)))
		hostOrder.PutUint32(h[frameLenOffset:], wire)
		hostOrder.PutUint32(h[frameStatOffset:], p.status)
		hostOrder.PutUint16(h[frameMacOffset:], uint16(mac))
		hostOrder.PutUint16(h[frameNetOffset:], uint16(netoff))
		hostOrder.PutUint32(h[frameTCIOffset:], p.tci)
		hostOrder.PutUint16(h[frameTPIDOffset:], p.tpid)
		sll := h[sockaddrLLOffset:]
		hostOrder.PutUint16(sll[0:], 17) // AF_PACKET
		binary.BigEndian.PutUint16(sll[2:], p.addr.Protocol)
		hostOrder.PutUint32(sll[4:], uint32(p.addr.Ifindex))
		hostOrder.PutUint16(sll[8:], p.addr.HAType)
		sll[10], sll[11] = p.addr.PktType, p.addr.AddrLen
		copy(sll[12:20], p.addr.Addr[:])
		copy(h[mac:], p.data)
		next := align16(mac + len(p.data))
		if i < len(pkts)-1 {
			hostOrder.PutUint32(h[frameNextOffset:], uint32(next))
		}
		off += next
	}
	hostOrder.PutUint32(b[blockLengthOffset:], uint32(off))
	return b
}

func align16(n int) int { return (n + 15) &^ 15 }

func TestBlockWalkerReadsEveryPacket(t *testing.T) {
	pkts := []synthPacket{
		{data: []byte("first packet...."), sec: 10, nsec: 1, macLen: 14, addr: linkAddr{Ifindex: 3, PktType: 0}},
		{data: bytes.Repeat([]byte{0xab}, 1500), wireLen: 9000, sec: 11, nsec: 999999999, macLen: 14, status: statusVLANValid, tci: 100},
		{data: []byte{1}, sec: 12, macLen: 14},
	}
	block := buildBlock(8192, pkts)
	var w blockWalker
	if err := w.reset(block); err != nil {
		t.Fatal(err)
	}
	for i, want := range pkts {
		var f frame
		ok, err := w.nextFrame(&f)
		if err != nil || !ok {
			t.Fatalf("packet %d: ok=%v err=%v", i, ok, err)
		}
		got := block[f.dataStart() : f.dataStart()+int(f.Snaplen)]
		if !bytes.Equal(got, want.data) {
			t.Errorf("packet %d data = %x, want %x", i, got, want.data)
		}
		wire := want.wireLen
		if wire == 0 {
			wire = uint32(len(want.data))
		}
		if f.Len != wire || f.Sec != want.sec || f.Nsec != want.nsec || f.Status != want.status || f.VLANTCI != want.tci {
			t.Errorf("packet %d header = %+v", i, f)
		}
	}
	var f frame
	if ok, err := w.nextFrame(&f); ok || err != nil {
		t.Fatalf("walker goes on past the last packet: ok=%v err=%v", ok, err)
	}
}

func TestBlockWalkerEmptyBlock(t *testing.T) {
	var w blockWalker
	if err := w.reset(buildBlock(4096, nil)); err != nil {
		t.Fatal(err)
	}
	var f frame
	if ok, err := w.nextFrame(&f); ok || err != nil {
		t.Fatalf("empty block yields a packet: ok=%v err=%v", ok, err)
	}
}

func TestBlockWalkerRejectsMalformedBlocks(t *testing.T) {
	good := func() []byte {
		return buildBlock(4096, []synthPacket{{data: make([]byte, 100), macLen: 14}, {data: make([]byte, 100), macLen: 14}})
	}
	cases := []struct {
		name   string
		break_ func(b []byte) []byte
	}{
		{"short block", func(b []byte) []byte { return b[:20] }},
		{"first offset inside the descriptor", func(b []byte) []byte {
			hostOrder.PutUint32(b[blockFirstOffset:], 8)
			return b
		}},
		{"first offset past the end", func(b []byte) []byte {
			hostOrder.PutUint32(b[blockFirstOffset:], 1<<30)
			return b
		}},
		{"snap length past the end", func(b []byte) []byte {
			hostOrder.PutUint32(b[blockDescLen+frameSnapOffset:], 5000)
			return b
		}},
		{"data inside the header", func(b []byte) []byte {
			hostOrder.PutUint16(b[blockDescLen+frameMacOffset:], 20)
			return b
		}},
		{"header cut by the block end", func(b []byte) []byte { return b[:blockDescLen+30] }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w blockWalker
			b := c.break_(good())
			err := w.reset(b)
			var f frame
			for err == nil {
				var ok bool
				ok, err = w.nextFrame(&f)
				if !ok {
					break
				}
			}
			if !errors.Is(err, errBadBlock) {
				t.Fatalf("err = %v, want errBadBlock", err)
			}
		})
	}
}

func TestBlockWalkerStopsAtBrokenLink(t *testing.T) {
	b := buildBlock(4096, []synthPacket{{data: make([]byte, 10), macLen: 14}, {data: make([]byte, 10), macLen: 14}})
	hostOrder.PutUint32(b[blockDescLen+frameNextOffset:], 0) // first packet claims to be last
	var w blockWalker
	if err := w.reset(b); err != nil {
		t.Fatal(err)
	}
	n := 0
	var f frame
	for {
		ok, err := w.nextFrame(&f)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
	}
	if n != 1 {
		t.Fatalf("walked %d packets past a zero link, want 1", n)
	}
}

func FuzzBlockWalker(f *testing.F) {
	f.Add(buildBlock(2048, []synthPacket{
		{data: make([]byte, 60), macLen: 14, status: statusVLANValid | statusVLANTPIDValid, tci: 5, tpid: 0x88a8},
		{data: make([]byte, 30), macLen: 14},
	}), uint8(0))
	f.Add(buildBlock(1024, []synthPacket{{data: make([]byte, 40), addr: linkAddr{AddrLen: 6}}}), uint8(2))
	f.Add(buildBlock(1024, []synthPacket{{data: make([]byte, 40), addr: linkAddr{AddrLen: 200}}}), uint8(1))
	f.Fuzz(func(t *testing.T, block []byte, kind uint8) {
		lts := []linkMode{modeFor(1), modeFor(113), modeFor(276), modeFor(101)}
		opt := frameOptions{mode: lts[int(kind)%len(lts)], snaplen: 1 << 20}
		if kind&0x80 != 0 {
			opt.snaplen = 33
			opt.filter = func(data []byte, wireLen int) uint32 { return uint32(len(data)) / 2 }
			opt.metadata = kind&0x40 != 0
		}
		orig := len(block)
		refs, _ := readBlock(block, &opt, nil)
		if len(block) != orig {
			t.Fatal("block changed length")
		}
		for _, r := range refs {
			if r.start < 0 || r.caplen < 0 || r.start+r.caplen > len(block) {
				t.Fatalf("packet [%d:+%d] outside a block of %d bytes", r.start, r.caplen, len(block))
			}
			if r.caplen > opt.snaplen {
				t.Fatalf("caplen %d above snaplen %d", r.caplen, opt.snaplen)
			}
		}
	})
}

// readBlock reads every packet of a block, appending their references to
// refs, as a ring reader does one at a time.
func readBlock(block []byte, opt *frameOptions, refs []packetRef) ([]packetRef, error) {
	r := blockReader{opt: opt}
	if err := r.reset(block); err != nil {
		return refs, err
	}
	for {
		var ref packetRef
		ok, err := r.next(&ref)
		if !ok {
			return refs, err
		}
		refs = append(refs, ref)
	}
}
