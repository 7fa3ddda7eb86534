package capture

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/weircap/weir/pcap"
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// One block through fillBatch, returning each kept packet's bytes.
func batchOf(t *testing.T, opt frameOptions, pkts ...synthPacket) ([][]byte, []packetRef) {
	t.Helper()
	block := buildBlock(1<<16, pkts)
	refs, err := readBlock(block, &opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, r := range refs {
		out = append(out, block[r.start:r.start+r.caplen])
	}
	return out, refs
}

const (
	ethAddrs = "ffffffffffff" + "020000000001"
	ipv4Rest = "4500001c0000400040110000c6120001c6120002" + "0035003500080000"
)

func TestVLANTagPutBackOnEthernet(t *testing.T) {
	untagged := mustHex(ethAddrs + "0800" + ipv4Rest)
	cases := []struct {
		name   string
		p      synthPacket
		wantHx string
	}{
		{"no tag", synthPacket{data: untagged, macLen: 14}, ethAddrs + "0800" + ipv4Rest},
		{"802.1Q", synthPacket{data: untagged, macLen: 14, status: statusVLANValid, tci: 0x2064},
			ethAddrs + "8100" + "2064" + "0800" + ipv4Rest},
		{"802.1ad outer tag", synthPacket{data: untagged, macLen: 14, status: statusVLANValid | statusVLANTPIDValid, tci: 300, tpid: 0x88a8},
			ethAddrs + "88a8" + "012c" + "0800" + ipv4Rest},
		{"tag 0 with priority only", synthPacket{data: untagged, macLen: 14, status: statusVLANValid, tci: 0},
			ethAddrs + "8100" + "0000" + "0800" + ipv4Rest},
		{"TCI without the valid bit (old kernels)", synthPacket{data: untagged, macLen: 14, tci: 7},
			ethAddrs + "8100" + "0007" + "0800" + ipv4Rest},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, refs := batchOf(t, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144}, c.p)
			want := mustHex(c.wantHx)
			if len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Fatalf("frame = %x\nwant    %x", got, want)
			}
			if refs[0].wireLen != len(want) {
				t.Errorf("wire length %d, want %d", refs[0].wireLen, len(want))
			}
		})
	}
}

func TestVLANTagNotPutBackInShortSnapshot(t *testing.T) {
	// libpcap inserts the tag only when the type field was captured.
	p := synthPacket{data: mustHex("ffffffffffff0200"), wireLen: 60, macLen: 14, status: statusVLANValid, tci: 9}
	got, _ := batchOf(t, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 100}, p)
	if !bytes.Equal(got[0], p.data) {
		t.Fatalf("frame = %x, want it unchanged", got[0])
	}
}

func TestCookedHeaders(t *testing.T) {
	ip := mustHex(ipv4Rest[:40])
	addr := linkAddr{Protocol: 0x0800, Ifindex: 7, HAType: 1, PktType: 3, AddrLen: 6,
		Addr: [8]byte{2, 0, 0, 0, 0, 1, 0xee, 0xee}}
	addr.addrBytes = 6
	p := synthPacket{data: ip, addr: addr}
	sll2 := "0800" + "0000" + "00000007" + "0001" + "03" + "06" + "020000000001" + "0000"
	sll := "0003" + "0001" + "0006" + "020000000001" + "0000" + "0800"
	cases := []struct {
		lt   pcap.LinkType
		p    synthPacket
		want string
	}{
		{pcap.LinkTypeLinuxSLL2, p, sll2 + ipv4Rest[:40]},
		{pcap.LinkTypeLinuxSLL, p, sll + ipv4Rest[:40]},
		// SLL puts a VLAN tag back before its protocol field; SLL2 never.
		{pcap.LinkTypeLinuxSLL, synthPacket{data: ip, addr: addr, status: statusVLANValid, tci: 100},
			sll[:28] + "8100" + "0064" + "0800" + ipv4Rest[:40]},
		{pcap.LinkTypeLinuxSLL2, synthPacket{data: ip, addr: addr, status: statusVLANValid, tci: 100}, sll2 + ipv4Rest[:40]},
	}
	for _, c := range cases {
		t.Run(c.lt.Name(), func(t *testing.T) {
			got, refs := batchOf(t, frameOptions{mode: modeFor(c.lt), snaplen: 262144}, c.p)
			want := mustHex(c.want)
			if !bytes.Equal(got[0], want) {
				t.Fatalf("frame = %x\nwant    %x", got[0], want)
			}
			if refs[0].wireLen != len(want) {
				t.Errorf("wire length %d, want %d", refs[0].wireLen, len(want))
			}
		})
	}
}

func TestSnaplenFilterAndTimestamps(t *testing.T) {
	frame := bytes.Repeat([]byte{0x5a}, 200)
	pkts := []synthPacket{
		{data: frame, sec: 1700000000, nsec: 123456789, macLen: 14},
		{data: frame[:50], sec: 1700000001, nsec: 5, macLen: 14},
	}
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 96, micro: true}
	got, refs := batchOf(t, opt, pkts...)
	if len(got[0]) != 96 || refs[0].wireLen != 200 || len(got[1]) != 50 {
		t.Fatalf("lengths %d/%d and %d, want 96/200 and 50", len(got[0]), refs[0].wireLen, len(got[1]))
	}
	if want := time.Unix(1700000000, 123456000); !refs[0].time().Equal(want) {
		t.Errorf("microsecond timestamp %v, want %v", refs[0].time(), want)
	}
	opt.micro = false
	_, refs = batchOf(t, opt, pkts...)
	if refs[0].nsec != 123456789 {
		t.Errorf("nanosecond timestamp lost: %d", refs[0].nsec)
	}
	// A user-space filter drops and cuts as a kernel filter would.
	opt.filter = func(data []byte, wireLen int) uint32 {
		if wireLen < 100 {
			return 0
		}
		return 10
	}
	got, _ = batchOf(t, opt, pkts...)
	if len(got) != 1 || len(got[0]) != 10 {
		t.Fatalf("user filter kept %d packets (first %d bytes), want 1 of 10 bytes", len(got), len(got[0]))
	}
}

func TestLoopbackCopiesDropped(t *testing.T) {
	frame := mustHex(ethAddrs + "0800" + ipv4Rest)
	lo := func(pktType uint8, ifindex int32) synthPacket {
		return synthPacket{data: frame, macLen: 14, addr: linkAddr{PktType: pktType, Ifindex: ifindex}}
	}
	pkts := []synthPacket{lo(0, 1), lo(packetOutgoing, 1), lo(packetOutgoing, 2), lo(0, 2)}
	for _, c := range []struct {
		rule loopbackRule
		want int
	}{{loopbackNone, 4}, {loopbackAny, 3}, {loopbackDevice, 2}} {
		got, _ := batchOf(t, frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 1000, loopback: c.rule}, pkts...)
		if len(got) != c.want {
			t.Errorf("loopback rule %d kept %d packets, want %d", c.rule, len(got), c.want)
		}
	}
}

func TestRingGeometry(t *testing.T) {
	cases := []struct {
		buffer  int
		snaplen uint32
		block   int
		count   int
	}{
		{0, 262144, 1 << 20, 4}, // the default, a full packet per block
		{0, 96, 1 << 20, 4},
		{2 << 20, 262144, 512 << 10, 4}, // libpcap's buffer
		{512 << 10, 262144, 128 << 10, 4},
		{4096, 262144, 64 << 10, 2}, // never fewer than two blocks
		{64 << 20, 1500, 1 << 20, 64},
		{64 << 20, 262144, 1 << 20, 64},
		{256 << 10, 96, 64 << 10, 4},
	}
	for _, c := range cases {
		g := newRingGeometry(c.buffer, c.snaplen, 4096, 0)
		if g.BlockSize != c.block || g.BlockCount != c.count {
			t.Errorf("buffer %d snaplen %d: %d blocks of %d, want %d of %d", c.buffer, c.snaplen, g.BlockCount, g.BlockSize, c.count, c.block)
		}
		if g.BlockSize%4096 != 0 || g.FrameSize > g.BlockSize || g.FrameCount*g.FrameSize != g.BlockCount*g.BlockSize {
			t.Errorf("geometry %+v breaks the kernel's rules", g)
		}
		if g.RetireTimeout != DefaultBlockTimeout {
			t.Errorf("retire timeout %v, want the default", g.RetireTimeout)
		}
	}
	if g := newRingGeometry(0, 96, 4096, 10*time.Microsecond); g.RetireTimeout != time.Millisecond {
		t.Errorf("sub-millisecond timeout became %v, want 1ms", g.RetireTimeout)
	}
}

func TestLinkTypeForARPHRD(t *testing.T) {
	cases := []struct {
		hatype uint16
		lt     pcap.LinkType
		cooked bool
	}{
		{arphrdEther, pcap.LinkTypeEthernet, false},
		{arphrdLoopback, pcap.LinkTypeEthernet, false},
		{arphrdNone, pcap.LinkTypeRaw, false},
		{arphrdRawIP, pcap.LinkTypeRaw, false},
		{arphrdSit, pcap.LinkTypeRaw, false},
		{arphrdRadiotap, pcap.LinkTypeIEEE802_11Radio, false},
		{arphrdPPP, pcap.LinkTypeLinuxSLL, true},
		{65000, pcap.LinkTypeLinuxSLL, true},
	}
	for _, c := range cases {
		lt, cooked := linkTypeForARPHRD(c.hatype)
		if lt != c.lt || cooked != c.cooked {
			t.Errorf("ARPHRD %d: %v cooked=%v, want %v cooked=%v", c.hatype, lt, cooked, c.lt, c.cooked)
		}
	}
}

// BenchmarkFillBatch is the user-space cost per packet of a full block of
// VLAN-tagged 128-byte frames: walking, putting the tag back, snap length.
func BenchmarkFillBatch(b *testing.B) {
	var pkts []synthPacket
	frame := bytes.Repeat([]byte{1}, 128)
	for range 1000 {
		pkts = append(pkts, synthPacket{data: frame, macLen: 14, status: statusVLANValid, tci: 7})
	}
	orig := buildBlock(256<<10, pkts)
	block := make([]byte, len(orig))
	opt := frameOptions{mode: modeFor(pcap.LinkTypeEthernet), snaplen: 262144}
	refs := make([]packetRef, 0, len(pkts))
	b.ReportAllocs()
	for b.Loop() {
		copy(block, orig)
		refs, _ = readBlock(block, &opt, refs[:0])
	}
	if len(refs) != len(pkts) {
		b.Fatalf("%d packets, want %d", len(refs), len(pkts))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pkts)), "ns/packet")
}
