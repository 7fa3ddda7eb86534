package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// probe is one feature check.
type probe struct {
	feature, minKernel string
	check              func() error
}

// captureProbes are the checks for a hook's capture program, oldest
// feature first, so the error names the first one missing.
func captureProbes(h CaptureHook) []probe {
	ringbuf := probe{"BPF ring buffer maps", "5.8", func() error { return features.HaveMapType(ebpf.RingBuf) }}
	if h == HookXDP {
		return []probe{
			{"XDP programs", "4.8", func() error { return features.HaveProgramType(ebpf.XDP) }},
			ringbuf,
			{"BPF links for XDP", xdpLinkVersion.String(), func() error { return kernelAtLeast(xdpLinkVersion) }},
			{"the bpf_xdp_load_bytes helper", "5.18", func() error { return features.HaveProgramHelper(ebpf.XDP, asm.FnXdpLoadBytes) }},
			{"the bpf_xdp_get_buff_len helper", "5.18", func() error { return features.HaveProgramHelper(ebpf.XDP, asm.FnXdpGetBuffLen) }},
		}
	}
	return []probe{
		{"tc classifier programs", "4.1", func() error { return features.HaveProgramType(ebpf.SchedCLS) }},
		ringbuf,
		{"tcx (BPF links on tc ingress and egress)", tcxVersion.String(), func() error { return kernelAtLeast(tcxVersion) }},
	}
}

// ProbeCapture checks that the kernel has what a hook's capture program
// needs: a *MissingFeatureError names the first feature missing.
func ProbeCapture(h CaptureHook) error {
	return runProbes(captureProbes(h))
}

// ProbeSocketFilter checks that the kernel runs eBPF socket filters.
func ProbeSocketFilter() error {
	return runProbes([]probe{
		{"eBPF socket filters", "3.19", func() error { return features.HaveProgramType(ebpf.SocketFilter) }},
	})
}

func runProbes(probes []probe) error {
	for _, p := range probes {
		err := p.check()
		if err == nil {
			continue
		}
		if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, ErrMissingFeature) {
			return &MissingFeatureError{Feature: p.feature, MinKernel: p.minKernel, Err: err}
		}
		return err // the probe itself failed: no privilege, say
	}
	return nil
}

// kernelAtLeast compares the running kernel's release with v.
func kernelAtLeast(v kernelVersion) error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	running, err := parseKernelRelease(unix.ByteSliceToString(u.Release[:]))
	if err != nil {
		return err
	}
	if !running.atLeast(v) {
		return fmt.Errorf("running Linux %s: %w", running, ErrMissingFeature)
	}
	return nil
}
