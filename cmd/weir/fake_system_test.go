package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// fakeSystem is a machine with a few interfaces whose captures deliver a
// fixed list of packets; it records what the command asked of it.
type fakeSystem struct {
	interfaces   []capture.Interface
	defaultIface string
	openErr      error
	hookErr      error // of OpenHook
	ebpfErr      error // of Open with an eBPF filter
	statsErr     error
	linkType     pcap.LinkType // of every opened capture; Ethernet when 0
	packets      [][]byte
	stats        capture.Stats
	dropErr      error
	// beforeRead runs before the source hands out packet n (from 0).
	beforeRead func(n int)

	mu      sync.Mutex
	opened  []capture.Config
	hooks   []capture.HookConfig // OpenHook's, in order
	sources []*fakeSource
	events  []string // "open", "close", "drop nobody", in order
	// drained is closed when every source has handed out its last packet.
	drained        chan struct{}
	drainedSources int
}

func newFakeSystem(packets ...[]byte) *fakeSystem {
	return &fakeSystem{
		interfaces: []capture.Interface{
			{Index: 1, Name: "lo", Up: true, Running: true, Loopback: true},
			{Index: 2, Name: "eth0", Up: true, Running: true},
			{Index: 3, Name: "eth1", Up: true},
		},
		defaultIface: "eth0",
		packets:      packets,
		stats:        capture.Stats{Received: uint64(len(packets)), Dropped: 0},
		drained:      make(chan struct{}),
	}
}

func (f *fakeSystem) event(e string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
}

func (f *fakeSystem) Open(cfg capture.Config) (liveSource, error) {
	f.event("open")
	if f.openErr != nil {
		return nil, f.openErr
	}
	if cfg.EBPF && f.ebpfErr != nil {
		return nil, f.ebpfErr
	}
	lt := f.linkType
	if lt == 0 {
		lt = pcap.LinkTypeEthernet
	}
	if cfg.Interface == "any" && f.linkType == 0 {
		lt = pcap.LinkTypeLinuxSLL2
	}
	snaplen := cfg.Snaplen
	if snaplen == 0 {
		snaplen = maxSnaplen
	}
	src := &fakeSource{sys: f, linkType: lt, snaplen: snaplen, nanos: cfg.Nanoseconds, stop: make(chan struct{})}
	f.mu.Lock()
	f.opened = append(f.opened, cfg)
	f.sources = append(f.sources, src)
	f.mu.Unlock()
	return src, nil
}

// OpenHook records the request and opens a fake capture like Open.
func (f *fakeSystem) OpenHook(cfg capture.HookConfig) (liveSource, error) {
	f.mu.Lock()
	f.hooks = append(f.hooks, cfg)
	f.mu.Unlock()
	if f.hookErr != nil {
		f.event("open " + cfg.Hook.String())
		return nil, f.hookErr
	}
	return f.Open(cfg.Config)
}

// HookFilterConfig is FilterConfig with XDP's view of VLAN tags.
func (f *fakeSystem) HookFilterConfig(iface string, h capture.Hook) (filter.Config, error) {
	cfg, err := f.FilterConfig(iface)
	if h == capture.HookXDP {
		cfg.KernelVLAN = false
	}
	return cfg, err
}

func (f *fakeSystem) sourceDrained() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drainedSources++; f.drainedSources == len(f.sources) {
		close(f.drained)
	}
}

// FilterConfig gives the link type Open will have.
func (f *fakeSystem) FilterConfig(iface string) (filter.Config, error) {
	if iface != "any" && !slices.ContainsFunc(f.interfaces, func(i capture.Interface) bool { return i.Name == iface }) {
		return filter.Config{}, fmt.Errorf("%s: %w", iface, capture.ErrNoSuchInterface)
	}
	lt := f.linkType
	switch {
	case lt != 0:
	case iface == "any":
		lt = pcap.LinkTypeLinuxSLL2
	default:
		lt = pcap.LinkTypeEthernet
	}
	return filter.Config{LinkType: lt, KernelVLAN: lt == pcap.LinkTypeEthernet, Optimize: true}, nil
}

func (f *fakeSystem) Interfaces() ([]capture.Interface, error) { return f.interfaces, nil }

func (f *fakeSystem) DefaultInterface() (string, error) { return f.defaultIface, nil }

func (f *fakeSystem) DropPrivileges(user string) error {
	f.event("drop " + user)
	return f.dropErr
}

// fakeSource hands out the system's packets, then blocks until Stop.
type fakeSource struct {
	sys      *fakeSystem
	linkType pcap.LinkType
	snaplen  uint32
	nanos    bool
	next     int
	stop     chan struct{}
	stopOnce sync.Once
	closed   bool
}

func (s *fakeSource) ReadPacket() ([]byte, pcap.CaptureInfo, error) {
	if s.next < len(s.sys.packets) {
		if s.sys.beforeRead != nil {
			s.sys.beforeRead(s.next)
		}
		p := s.sys.packets[s.next]
		ci := pcap.CaptureInfo{
			Timestamp:     testTime.Add(time.Duration(s.next) * time.Second),
			CaptureLength: len(p),
			Length:        len(p),
			LinkType:      s.linkType,
		}
		s.next++
		return p, ci, nil
	}
	if s.next == len(s.sys.packets) {
		s.next++
		s.sys.sourceDrained()
	}
	<-s.stop
	return nil, pcap.CaptureInfo{}, io.EOF
}

func (s *fakeSource) LinkType() pcap.LinkType { return s.linkType }
func (s *fakeSource) Snaplen() uint32         { return s.snaplen }

func (s *fakeSource) Stats() (capture.Stats, error) {
	if s.closed {
		return capture.Stats{}, errors.New("capture: stats of a closed capture")
	}
	return s.sys.stats, s.sys.statsErr
}

func (s *fakeSource) Stop() { s.stopOnce.Do(func() { close(s.stop) }) }

func (s *fakeSource) Close() error {
	s.closed = true
	s.sys.event("close")
	return nil
}

// runFake runs the command on a fake machine. When untilDrained is set, it
// cancels the context (a signal) once every packet has been handed out.
func runFake(t *testing.T, sys *fakeSystem, untilDrained bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if untilDrained {
		go func() {
			select {
			case <-sys.drained:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	done := make(chan result, 1)
	go func() {
		var stdout, stderr bytes.Buffer
		code := run(ctx, args, nil, &stdout, &stderr, sys)
		done <- result{code, stdout.String(), stderr.String()}
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("weir %q did not stop", args)
		return result{}
	}
}
