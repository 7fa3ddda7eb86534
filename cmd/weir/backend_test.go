package main

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

func TestBackendOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "fast"}, "weir: invalid backend fast (must be auto, classic, ebpf, xdp or tc)\n"},
		{[]string{"--xdp", "--tc"}, "weir: --tc conflicts with the xdp backend already chosen\n"},
		{[]string{"--xdp-mode", "native"}, "weir: --xdp-mode applies to XDP capture: add --xdp\n"},
		{[]string{"--xdp", "--xdp-mode", "offload"}, "weir: invalid XDP mode offload (must be native or generic)\n"},
		{[]string{"--xdp", "-Q", "out"}, "weir: XDP sees only received packets: -Q out needs --tc\n"},
		{[]string{"--tc", "--fanout", "2"}, "weir: --fanout applies to AF_PACKET sockets, not to --tc\n"},
		{[]string{"--ebpf", "-r", "x.pcap"}, "weir: --ebpf is for live capture: it does not apply to -r\n"},
	} {
		r := runFake(t, newFakeSystem(), false, tc.args...)
		if r.code != 1 || r.stderr != tc.want {
			t.Errorf("%q: exit %d, stderr %q; want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestBackendFlagsOpenTheirCapture(t *testing.T) {
	for _, tc := range []struct {
		args []string
		hook capture.HookConfig // zero: an AF_PACKET socket
		ebpf bool
	}{
		{[]string{"--xdp"}, capture.HookConfig{Hook: capture.HookXDP}, false},
		{[]string{"--backend", "xdp", "--xdp-mode", "generic"}, capture.HookConfig{Hook: capture.HookXDP, XDPMode: capture.XDPModeGeneric}, false},
		{[]string{"--xdp", "--xdp-mode", "native"}, capture.HookConfig{Hook: capture.HookXDP, XDPMode: capture.XDPModeNative}, false},
		{[]string{"--tc", "--backend", "tc"}, capture.HookConfig{Hook: capture.HookTCX}, false},
		{[]string{"--ebpf"}, capture.HookConfig{}, true},
		{[]string{"--backend", "classic"}, capture.HookConfig{}, false},
		{[]string{"--backend", "auto"}, capture.HookConfig{Hook: capture.HookTCX}, false},
		{[]string{"--backend", "auto", "-Q", "in"}, capture.HookConfig{Hook: capture.HookXDP}, false},
		{[]string{"--backend", "auto", "--fanout", "2"}, capture.HookConfig{}, true},
	} {
		sys := newFakeSystem()
		r := runFake(t, sys, true, tc.args...)
		if r.code != 0 {
			t.Errorf("%q: %+v", tc.args, r)
			continue
		}
		if tc.hook.Hook != 0 {
			if len(sys.hooks) != 1 || sys.hooks[0].Hook != tc.hook.Hook || sys.hooks[0].XDPMode != tc.hook.XDPMode {
				t.Errorf("%q: opened hooks %+v, want %v mode %v", tc.args, sys.hooks, tc.hook.Hook, tc.hook.XDPMode)
			}
			continue
		}
		if len(sys.hooks) != 0 || len(sys.opened) != 1 || sys.opened[0].EBPF != tc.ebpf {
			t.Errorf("%q: hooks %+v, sockets %+v; want one socket, eBPF %v", tc.args, sys.hooks, sys.opened, tc.ebpf)
		}
	}
}

func TestBackendFiltersCompiledForTheHooksView(t *testing.T) {
	for _, tc := range []struct {
		flag       string
		kernelVLAN bool
	}{{"--xdp", false}, {"--tc", true}, {"--ebpf", true}} {
		sys := newFakeSystem()
		if r := runFake(t, sys, true, tc.flag, "-s", "128", "vlan", "10"); r.code != 0 {
			t.Fatalf("%s: %+v", tc.flag, r)
		}
		want, err := filter.Compile("vlan 10", filter.Config{LinkType: pcap.LinkTypeEthernet, Snaplen: 128, Optimize: true, KernelVLAN: tc.kernelVLAN})
		if err != nil {
			t.Fatal(err)
		}
		if got := sys.opened[0].Filter; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: filter\n%s\nwant (KernelVLAN %v)\n%s", tc.flag, filter.Dump(got, filter.DumpAssembly), tc.kernelVLAN, filter.Dump(want, filter.DumpAssembly))
		}
	}
}

func TestBackendAutoFallsBack(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	sys.hookErr = errors.New("capture: eth0: another XDP program is attached (id 7)")
	r := runFake(t, sys, true, "--backend", "auto", "-Q", "in", "-w", "-")
	if r.code != 0 || !strings.HasPrefix(r.stderr, "weir: warning: XDP capture unavailable: eth0: another XDP program is attached (id 7); trying AF_PACKET with an eBPF filter\n") {
		t.Errorf("fallback to eBPF: %+v", r)
	}
	if len(sys.opened) != 1 || !sys.opened[0].EBPF {
		t.Errorf("opened %+v, want one eBPF socket", sys.opened)
	}

	sys = newFakeSystem(livePackets()...)
	sys.hookErr = errors.New("bpf: this kernel lacks tcx (BPF links on tc ingress and egress) (Linux 6.6 or later): running Linux 6.1")
	sys.ebpfErr = errors.New("bpf: this kernel lacks eBPF socket filters (Linux 3.19 or later)")
	r = runFake(t, sys, true, "--backend", "auto", "-w", "-")
	if r.code != 0 || !strings.Contains(r.stderr, "warning: tcx capture unavailable: bpf: this kernel lacks tcx") ||
		!strings.Contains(r.stderr, "warning: AF_PACKET with an eBPF filter capture unavailable: bpf: this kernel lacks eBPF socket filters (Linux 3.19 or later); trying AF_PACKET with a classic BPF filter\n") {
		t.Errorf("fallback to classic: %+v", r)
	}
	if len(sys.opened) != 1 || sys.opened[0].EBPF {
		t.Errorf("opened %+v, want one classic socket", sys.opened)
	}
}

func TestBackendExplicitDoesNotFallBack(t *testing.T) {
	sys := newFakeSystem(livePackets()...)
	sys.hookErr = errors.New("capture: eth0: another XDP program is attached (id 7)")
	r := runFake(t, sys, false, "--xdp")
	if r.code != 1 || r.stderr != "weir: eth0: another XDP program is attached (id 7)\n" || len(sys.opened) != 0 {
		t.Errorf("--xdp: %+v, opened %+v", r, sys.opened)
	}
}

func TestBackendAutoStopsAtAFilterError(t *testing.T) {
	sys := newFakeSystem()
	r := runFake(t, sys, false, "--backend", "auto", "tcp port")
	if r.code != 1 || len(sys.hooks) != 0 || len(sys.opened) != 0 || strings.Contains(r.stderr, "warning") {
		t.Errorf("%+v; hooks %+v, sockets %+v", r, sys.hooks, sys.opened)
	}
}

func TestBackendDumps(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		contains  []string
		notInside []string
	}{
		{[]string{"-d", "--xdp", "udp"}, []string{"filter_done:", "call bpf_xdp_load_bytes", "call bpf_ringbuf_reserve", "r0 = 2\n"}, []string{"; tcx"}},
		{[]string{"-d", "--tc", "udp"}, []string{"; tcx ingress\n", "; tcx egress\n", "call bpf_skb_load_bytes", "r0 = -1\n"}, []string{"bpf_xdp"}},
		{[]string{"-d", "--tc", "-Q", "out", "udp"}, []string{"*(u8 *)(r7 +24) = 4"}, []string{"; tcx"}},
		{[]string{"-d", "--ebpf", "udp"}, []string{"filter_done:", "exit"}, []string{"Ringbuf"}},
		{[]string{"-d", "--xdp", "-i", "eth0", "vlan"}, []string{"filter_done:"}, nil},
	} {
		r := runFake(t, newFakeSystem(), false, tc.args...)
		if r.code != 0 {
			t.Errorf("%q: %+v", tc.args, r)
			continue
		}
		for _, s := range tc.contains {
			if !strings.Contains(r.stdout, s) {
				t.Errorf("%q: no %q in\n%s", tc.args, s, r.stdout)
			}
		}
		for _, s := range tc.notInside {
			if strings.Contains(r.stdout, s) {
				t.Errorf("%q: %q in\n%s", tc.args, s, r.stdout)
			}
		}
	}
	// -dd and -ddd: one line per 8-byte instruction, -ddd after the count.
	dd := runFake(t, newFakeSystem(), false, "-dd", "--xdp", "udp")
	ddd := runFake(t, newFakeSystem(), false, "-ddd", "--xdp", "udp")
	lines := strings.Split(strings.TrimSuffix(ddd.stdout, "\n"), "\n")
	n, err := strconv.Atoi(lines[0])
	if err != nil || n != len(lines)-1 || n != strings.Count(dd.stdout, "\n") || !strings.HasPrefix(dd.stdout, "{ 0xbf, 6, 1, 0, 0x00000000 },\n") {
		t.Errorf("-dd:\n%s\n-ddd:\n%s", dd.stdout, ddd.stdout)
	}
	if !strings.HasPrefix(ddd.stdout, lines[0]+"\n191 6 1 0 0\n") {
		t.Errorf("-ddd starts\n%s", ddd.stdout[:min(len(ddd.stdout), 60)])
	}
	// XDP has no socket metadata: the filter is refused with its reason.
	r := runFake(t, newFakeSystem(), false, "-d", "--xdp", "inbound")
	if r.code != 1 || !strings.Contains(r.stderr, "not available at XDP") {
		t.Errorf("-d --xdp inbound: %+v", r)
	}
}
