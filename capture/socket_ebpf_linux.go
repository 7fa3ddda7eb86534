package capture

import (
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/filter"
)

// attachEBPF attaches the kernel's part of the filter lowered to an eBPF
// socket filter. The socket keeps the program; its descriptor here goes.
// When the kernel refuses it, the feature probe names what it lacks.
func attachEBPF(fd int, p filter.Program, sets map[string]*filter.Set) (map[string]*ebpf.Map, error) {
	maps, err := bpf.SetMaps(p, sets)
	if err != nil {
		return nil, err
	}
	prog, loaded, err := bpf.LoadSocketFilter(p, maps)
	if err != nil {
		// Probing costs a program load: only to explain a failure.
		if perr := bpf.ProbeSocketFilter(); perr != nil {
			return nil, perr
		}
		return nil, err
	}
	defer prog.Close()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD()); err != nil {
		closeMaps(loaded)
		return nil, err
	}
	return loaded, nil
}

func closeMaps(maps map[string]*ebpf.Map) {
	for _, m := range maps {
		m.Close()
	}
}

// attachEBPFRules attaches rules as one eBPF socket filter: each rule's
// filter made ready for the socket as a filter is (buildPrograms), then
// lowered. A rule the kernel could not run on this socket is refused:
// rules have no user-space fallback.
func attachEBPFRules(fd int, spec socketSpec, dir Direction, lo loopbackRule) (kernels []filter.Program, maps map[string]*ebpf.Map, err error) {
	var setMaps []bpf.SetMap
	var specs []bpf.RuleSpec
	for _, r := range spec.rules {
		progs := buildPrograms(r.Filter, spec.mode, spec.snaplen, dir, lo)
		if progs.User != nil {
			return nil, nil, fmt.Errorf("rule %q reads link-layer fields the kernel does not give this socket's filter: capture it with --xdp or --tc", r.Name)
		}
		frag, err := bpf.Lower(progs.Kernel, bpf.TargetSocketFilter)
		if err != nil {
			return nil, nil, fmt.Errorf("rule %q: %w", r.Name, err)
		}
		more, err := bpf.SetMaps(progs.Kernel, spec.sets)
		if err != nil {
			return nil, nil, err
		}
		setMaps = mergeSetMaps(setMaps, more)
		kernels = append(kernels, progs.Kernel)
		specs = append(specs, bpf.RuleSpec{Filter: frag, Sample: r.Sample, Snaplen: r.Snaplen, Action: r.Action, Capture: r.Capture, Rate: r.Rate})
	}
	insns, err := bpf.RulesSocketFilterProgram(spec.snaplen, specs)
	if err != nil {
		return nil, nil, err
	}
	prog, loaded, err := bpf.LoadSocketProgram(insns, setMaps, len(specs))
	if err != nil {
		if perr := bpf.ProbeSocketFilter(); perr != nil {
			return nil, nil, perr
		}
		return nil, nil, err
	}
	defer prog.Close()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ATTACH_BPF, prog.FD()); err != nil {
		closeMaps(loaded)
		return nil, nil, err
	}
	return kernels, loaded, nil
}
