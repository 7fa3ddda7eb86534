package bpf

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/ringbuf"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/internal/testutil"
)

func loadCapture(t *testing.T, ringBytes uint32, specs ...CaptureSpec) *CaptureObjects {
	t.Helper()
	testutil.RequireRoot(t, "CAP_BPF and CAP_NET_ADMIN")
	objs, err := LoadCapture(specs, ringBytes, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objs.Close() })
	return objs
}

func TestCaptureProgramsPassTheVerifier(t *testing.T) {
	for _, snaplen := range []uint32{1, 60, 1500, 65535, MaxCaptureSnaplen} {
		objs := loadCapture(t, RingBytes(1<<20, snaplen, os.Getpagesize()),
			CaptureSpec{Hook: HookXDP, Snaplen: snaplen, Filter: acceptAll(0xffff)},
			CaptureSpec{Hook: HookTCXIngress, Snaplen: snaplen, Filter: acceptAll(0xffff)},
			CaptureSpec{Hook: HookTCXEgress, Snaplen: snaplen, Filter: acceptAll(0xffff), WakeupBytes: 1 << 16},
		)
		if len(objs.Programs) != 3 {
			t.Fatalf("%d programs loaded", len(objs.Programs))
		}
	}
}

// testFrame is an Ethernet frame of n bytes with a recognisable payload.
func testFrame(n int) []byte {
	f := make([]byte, n)
	for i := range f {
		f[i] = byte(i * 7)
	}
	copy(f[12:], []byte{0x08, 0x00})
	return f
}

// readRecords reads every record in the ring, waiting briefly for none.
func readRecords(t *testing.T, objs *CaptureObjects) []Record {
	t.Helper()
	rd, err := ringbuf.NewReader(objs.Ring)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []Record
	for {
		rd.SetDeadline(time.Now().Add(20 * time.Millisecond))
		rec, err := rd.Read()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var r Record
		if err := DecodeRecord(rec.RawSample, &r); err != nil {
			t.Fatal(err)
		}
		r.Data = append([]byte(nil), r.Data...)
		out = append(out, r)
	}
}

func TestXDPCaptureProgramWritesRecords(t *testing.T) {
	for _, tc := range []struct {
		name      string
		verdict   int32
		snaplen   uint32
		frame     int
		wantCap   int
		noRecords bool
	}{
		{"no match", 0, 1500, 100, 0, true},
		{"whole frame", 0xffff, 1500, 100, 100, false},
		{"verdict cuts", 64, 1500, 100, 64, false},
		{"snaplen cuts", 0xffff, 96, 1000, 96, false},
		{"class boundary", 0xffff, 1500, 128, 128, false},
		{"next class", 0xffff, 1500, 129, 129, false},
		{"full size", 0x40000, 4096, 1514, 1514, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := loadCapture(t, 1<<16, CaptureSpec{Hook: HookXDP, Snaplen: tc.snaplen, Filter: acceptAll(tc.verdict)})
			prog := objs.Programs[HookXDP]
			frame := testFrame(tc.frame)
			before := time.Now()
			ret, err := prog.Run(&ebpf.RunOptions{Data: frame})
			if err != nil {
				t.Fatal(err)
			}
			if ret != xdpPass {
				t.Errorf("returned %d, want XDP_PASS", ret)
			}
			recs := readRecords(t, objs)
			submitted, dropped, err := objs.ReadCounters()
			if err != nil {
				t.Fatal(err)
			}
			if tc.noRecords {
				if len(recs) != 0 || submitted != 0 || dropped != 0 {
					t.Fatalf("%d records, counters %d/%d for a rejected frame", len(recs), submitted, dropped)
				}
				return
			}
			if len(recs) != 1 || submitted != 1 || dropped != 0 {
				t.Fatalf("%d records, %d submitted, %d dropped; want 1, 1, 0", len(recs), submitted, dropped)
			}
			r := recs[0]
			if int(r.Length) != tc.frame || int(r.CaptureLength) != tc.wantCap || !bytes.Equal(r.Data, frame[:tc.wantCap]) {
				t.Errorf("record length %d captured %d, want %d and %d; data equal: %v",
					r.Length, r.CaptureLength, tc.frame, tc.wantCap, bytes.Equal(r.Data, frame[:tc.wantCap]))
			}
			if r.PacketType != PacketTypeUnknown || r.VLANPresent {
				t.Errorf("packet type %d, VLAN %v", r.PacketType, r.VLANPresent)
			}
			// The timestamp is CLOCK_MONOTONIC, taken during the run.
			lo, hi := monotonicNow(t, before), monotonicNow(t, time.Now())
			if r.Monotonic < lo || r.Monotonic > hi {
				t.Errorf("timestamp %d outside the run [%d, %d]", r.Monotonic, lo, hi)
			}
		})
	}
}

// monotonicNow is CLOCK_MONOTONIC at wall-clock time at, from the clock
// now (good enough for bracketing a test run).
func monotonicNow(t *testing.T, at time.Time) uint64 {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		t.Fatal(err)
	}
	now := uint64(ts.Sec)*1e9 + uint64(ts.Nsec)
	return now - uint64(time.Since(at))
}

func TestXDPCaptureProgramCountsDropsWhenTheRingIsFull(t *testing.T) {
	// A page of ring holds two records of 32+1504 bytes; the rest drop.
	objs := loadCapture(t, 4096, CaptureSpec{Hook: HookXDP, Snaplen: 1500, Filter: acceptAll(0xffff)})
	frame := testFrame(1500)
	const runs = 5
	for range runs {
		if _, err := objs.Programs[HookXDP].Run(&ebpf.RunOptions{Data: frame}); err != nil {
			t.Fatal(err)
		}
	}
	submitted, dropped, err := objs.ReadCounters()
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, objs)
	if submitted+dropped != runs || dropped == 0 || int(submitted) != len(recs) {
		t.Errorf("%d submitted, %d dropped, %d records read, of %d runs", submitted, dropped, len(recs), runs)
	}
}

func TestThisKernelHasEveryCaptureFeature(t *testing.T) {
	testutil.RequireRoot(t, "CAP_BPF")
	for _, h := range []CaptureHook{HookXDP, HookTCXIngress, HookTCXEgress} {
		if err := ProbeCapture(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if err := ProbeSocketFilter(); err != nil {
		t.Error(err)
	}
	// A version no kernel has is reported as missing, by name.
	err := runProbes([]probe{{"a future feature", "99.0", func() error { return kernelAtLeast(kernelVersion{99, 0}) }}})
	var mf *MissingFeatureError
	if !errors.As(err, &mf) || mf.MinKernel != "99.0" || !strings.Contains(err.Error(), "a future feature (Linux 99.0 or later): running Linux ") {
		t.Errorf("probe of Linux 99.0: %v", err)
	}
}

func TestXDPCaptureProgramBatchesWakeups(t *testing.T) {
	objs := loadCapture(t, 1<<16, CaptureSpec{Hook: HookXDP, Snaplen: 1500, Filter: acceptAll(0xffff), WakeupBytes: 1 << 12})
	// An edge-triggered epoll instance on the ring sees each of the
	// program's wake-ups, as a reader waiting in it would.
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ep)
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, objs.Ring.FD(), &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET}); err != nil {
		t.Fatal(err)
	}
	woken := func() bool {
		events := make([]unix.EpollEvent, 1)
		n, err := unix.EpollWait(ep, events, 0)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	run := func(n int) {
		if _, err := objs.Programs[HookXDP].Run(&ebpf.RunOptions{Data: testFrame(200), Repeat: uint32(n)}); err != nil {
			t.Fatal(err)
		}
	}
	// Records of 8+32+256 bytes. The first lands where the consumer
	// position stands: a reader that gave everything back sleeps, and
	// is woken.
	run(1)
	if !woken() {
		t.Error("not woken by the first record into an empty ring")
	}
	// The consumer position stays at that record, as a polling reader
	// holds it: no wake-up until the ring holds 4 KiB.
	run(9)
	if woken() {
		t.Error("woken before the ring held 4 KiB")
	}
	run(10)
	if !woken() {
		t.Error("not woken once the ring held 4 KiB")
	}
	if recs := readRecords(t, objs); len(recs) != 20 || !bytes.Equal(recs[19].Data, testFrame(200)) {
		t.Fatalf("%d records", len(recs))
	}
	// Read empty and given back: the next record wakes again.
	run(1)
	if !woken() {
		t.Error("not woken by the first record after the ring was read empty")
	}
}
