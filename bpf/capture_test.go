package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf/asm"
)

// acceptAll is a filter fragment keeping verdict bytes of every packet.
func acceptAll(verdict int32) asm.Instructions {
	return asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.Mov.Imm(asm.R0, verdict),
		asm.Ja.Label(FilterDone),
	}
}

func TestCaptureProgramResolvesEveryLabel(t *testing.T) {
	for _, hook := range []CaptureHook{HookXDP, HookTCXIngress, HookTCXEgress} {
		for _, snaplen := range []uint32{1, 96, 128, 1500, 65535, MaxCaptureSnaplen} {
			insns, err := CaptureProgram(CaptureSpec{Hook: hook, Snaplen: snaplen, Filter: acceptAll(0xffff)})
			if err != nil {
				t.Fatalf("%s snaplen %d: %v", hook, snaplen, err)
			}
			// Marshal fails on a jump to a missing label.
			var buf bytes.Buffer
			if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
				t.Fatalf("%s snaplen %d: %v", hook, snaplen, err)
			}
			refs := insns.ReferenceOffsets()
			// XDP copies single-buffer frames: no class above a page.
			if len(refs[RingMap]) != len(RecordCapacities(recordLimit(hook, snaplen))) || len(refs[CountersMap]) != 1 {
				t.Errorf("%s snaplen %d: map references %v", hook, snaplen, refs)
			}
		}
	}
}

// TestXDPRecordsStopAtAPage: XDP programs have no record class above
// maxXDPFrame, tcx programs keep every class up to the snap length.
func TestXDPRecordsStopAtAPage(t *testing.T) {
	for hook, want := range map[CaptureHook]int{HookXDP: len(RecordCapacities(maxXDPFrame)), HookTCXIngress: len(RecordCapacities(MaxCaptureSnaplen))} {
		insns, err := CaptureProgram(CaptureSpec{Hook: hook, Snaplen: MaxCaptureSnaplen, Filter: acceptAll(0xffff)})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(insns.ReferenceOffsets()[RingMap]); got != want {
			t.Errorf("%s: %d record classes, want %d", hook, got, want)
		}
	}
}

func TestCaptureProgramUsesTheHooksHelpers(t *testing.T) {
	calls := func(hook CaptureHook) []asm.BuiltinFunc {
		insns, err := CaptureProgram(CaptureSpec{Hook: hook, Snaplen: 1500, Filter: acceptAll(1)})
		if err != nil {
			t.Fatal(err)
		}
		var fns []asm.BuiltinFunc
		for _, ins := range insns {
			if ins.IsBuiltinCall() {
				fns = append(fns, asm.BuiltinFunc(ins.Constant))
			}
		}
		return fns
	}
	xdp, tcx := calls(HookXDP), calls(HookTCXIngress)
	if !slices.Contains(xdp, asm.FnXdpLoadBytes) || slices.Contains(xdp, asm.FnSkbLoadBytes) {
		t.Errorf("xdp program calls %v", xdp)
	}
	if !slices.Contains(tcx, asm.FnSkbLoadBytes) || slices.Contains(tcx, asm.FnXdpLoadBytes) || slices.Contains(tcx, asm.FnXdpGetBuffLen) {
		t.Errorf("tcx program calls %v", tcx)
	}
}

func TestCaptureProgramErrors(t *testing.T) {
	for _, tc := range []struct {
		spec CaptureSpec
		want string
	}{
		{CaptureSpec{Hook: HookXDP, Snaplen: 0, Filter: acceptAll(1)}, "snap length 0"},
		{CaptureSpec{Hook: HookXDP, Snaplen: MaxCaptureSnaplen + 1, Filter: acceptAll(1)}, "snap length 262145"},
		{CaptureSpec{Hook: 7, Snaplen: 100, Filter: acceptAll(1)}, "unknown capture hook 7"},
		{CaptureSpec{Hook: HookTCXEgress, Snaplen: 100}, "without a filter"},
	} {
		_, err := CaptureProgram(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bpf: ") {
			t.Errorf("%+v: error %v, want %q", tc.spec, err, tc.want)
		}
	}
}

func TestRecordCapacities(t *testing.T) {
	for _, tc := range []struct {
		snaplen uint32
		want    []uint32
	}{
		{1, []uint32{8}},
		{64, []uint32{64}},
		{96, []uint32{64, 96}},
		{128, []uint32{64, 128}},
		{129, []uint32{64, 128, 136}},
		{1500, []uint32{64, 128, 256, 512, 1024, 1504}},
		{2048, []uint32{64, 128, 256, 512, 1024, 2048}},
		{MaxCaptureSnaplen, []uint32{64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144}},
	} {
		if got := RecordCapacities(tc.snaplen); !slices.Equal(got, tc.want) {
			t.Errorf("RecordCapacities(%d) = %v, want %v", tc.snaplen, got, tc.want)
		}
	}
}

func TestRingBytes(t *testing.T) {
	for _, tc := range []struct {
		want    int
		snaplen uint32
		size    uint32
	}{
		{0, 1500, DefaultRingBytes},
		{1 << 20, 1500, 1 << 20},
		{1<<20 + 1, 1500, 2 << 20},
		{4096, 1500, 8192},                    // four records of 8+32+1504 bytes
		{1 << 20, MaxCaptureSnaplen, 2 << 20}, // four records of 256 KiB and more
		{100, 1, 4096},                        // a page at least
	} {
		if got := RingBytes(tc.want, tc.snaplen, 4096); got != tc.size {
			t.Errorf("RingBytes(%d, %d) = %d, want %d", tc.want, tc.snaplen, got, tc.size)
		}
	}
}

func TestDecodeRecordRoundTrip(t *testing.T) {
	want := Record{Monotonic: 123456789012, Length: 1514, CaptureLength: 5, Ifindex: 7,
		PacketType: 2, VLANPresent: true, VLANTCI: 0x2064, VLANProto: 0x88a8, Data: []byte{1, 2, 3, 4, 5}}
	b := AppendRecord(nil, &want, 128)
	if len(b) != RecordHeaderLen+128 {
		t.Fatalf("record of %d bytes, want %d", len(b), RecordHeaderLen+128)
	}
	// The protocol is kept in network order, as the kernel's __be16.
	if b[recVLANProto] != 0x88 || b[recVLANProto+1] != 0xa8 {
		t.Errorf("VLAN protocol bytes % x", b[recVLANProto:recVLANProto+2])
	}
	var got Record
	if err := DecodeRecord(b, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("data % x, want % x", got.Data, want.Data)
	}
	got.Data, want.Data = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v, want %+v", got, want)
	}
}

func TestDecodeRecordErrors(t *testing.T) {
	ok := Record{Length: 60, CaptureLength: 60, Data: make([]byte, 60)}
	tooLong := ok
	tooLong.Length = 59
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short header", make([]byte, RecordHeaderLen-1), "shorter than its 32-byte header"},
		{"truncated data", AppendRecord(nil, &ok, 60)[:RecordHeaderLen+59], "says 60 bytes captured but holds 59"},
		{"captured beyond length", AppendRecord(nil, &tooLong, 64), "60 bytes captured of a 59-byte packet"},
	} {
		var r Record
		err := DecodeRecord(tc.b, &r)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestDecodeRecordDoesNotAllocate(t *testing.T) {
	b := AppendRecord(nil, &Record{Length: 100, CaptureLength: 100, Data: make([]byte, 100)}, 128)
	var r Record
	if n := testing.AllocsPerRun(100, func() { _ = DecodeRecord(b, &r) }); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(AppendRecord(nil, &Record{Length: 60, CaptureLength: 60, Data: make([]byte, 60)}, 128))
	f.Add(AppendRecord(nil, &Record{Length: 9000, CaptureLength: 96, VLANPresent: true, Data: make([]byte, 96)}, 96))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Record
		if err := DecodeRecord(b, &r); err != nil {
			return
		}
		if len(r.Data) != int(r.CaptureLength) || r.CaptureLength > r.Length {
			t.Fatalf("accepted %+v from %d bytes", r, len(b))
		}
		// What decodes re-encodes to the same header and data.
		again := AppendRecord(nil, &r, 0)
		if !sameRecord(again, b) {
			t.Fatalf("round trip changed the record:\n% x\n% x", again[:RecordHeaderLen], b[:RecordHeaderLen])
		}
	})
}

// sameRecord reports whether a re-encoded record a has b's header and
// data, but for what the decoder ignores: the flag bits above the first,
// the reserved bytes and the padding.
func sameRecord(a, b []byte) bool {
	for i := range RecordHeaderLen {
		switch {
		case i == recFlags:
			if a[i]&1 != b[i]&1 {
				return false
			}
		case i > recFlags:
		default:
			if a[i] != b[i] {
				return false
			}
		}
	}
	return bytes.Equal(a[RecordHeaderLen:], b[RecordHeaderLen:len(a)])
}

func TestParseKernelRelease(t *testing.T) {
	for _, tc := range []struct {
		release string
		want    kernelVersion
		ok      bool
	}{
		{"6.18.0-1-amd64", kernelVersion{6, 18}, true},
		{"5.8", kernelVersion{5, 8}, true},
		{"4.19.0+", kernelVersion{4, 19}, true},
		{"linux", kernelVersion{}, false},
	} {
		got, err := parseKernelRelease(tc.release)
		if (err == nil) != tc.ok || tc.ok && got != tc.want {
			t.Errorf("parseKernelRelease(%q) = %v, %v", tc.release, got, err)
		}
	}
	if !(kernelVersion{6, 6}).atLeast(tcxVersion) || (kernelVersion{6, 5}).atLeast(tcxVersion) || !(kernelVersion{7, 0}).atLeast(tcxVersion) {
		t.Error("atLeast compares wrongly around 6.6")
	}
}

func TestMissingFeatureErrorNamesTheFeatureAndVersion(t *testing.T) {
	err := error(&MissingFeatureError{Feature: "BPF ring buffer maps", MinKernel: "5.8", Err: errors.New("not supported")})
	if !errors.Is(err, ErrMissingFeature) || err.Error() != "bpf: this kernel lacks BPF ring buffer maps (Linux 5.8 or later): not supported" {
		t.Errorf("error %q", err)
	}
}
