package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
)

// CaptureObjects are a capture's programs and maps, loaded in the kernel.
type CaptureObjects struct {
	Programs map[CaptureHook]*ebpf.Program
	Ring     *ebpf.Map
	Counters *ebpf.Map
	// SetMaps are the maps of the filter's set lookups, by SetMap name.
	SetMaps map[string]*ebpf.Map
	// RuleCounters is a rules program's counters, nil without rules.
	RuleCounters *ebpf.Map
}

// captureLicense is GPL-compatible, as bpf_ktime_get_ns's siblings and
// some helpers the filters may use require.
const captureLicense = "Dual MIT/GPL"

// captureCollectionSpec is the kernel objects of a capture: one program
// per spec, sharing one ring of ringBytes and one counters map.
func captureCollectionSpec(specs []CaptureSpec, ringBytes uint32, sets []SetMap) (*ebpf.CollectionSpec, error) {
	cs := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{
			RingMap: {Name: RingMap, Type: ebpf.RingBuf, MaxEntries: ringBytes},
			CountersMap: {Name: CountersMap, Type: ebpf.PerCPUArray, KeySize: 4,
				ValueSize: 8 * CounterWords, MaxEntries: 1},
		},
		Programs: map[string]*ebpf.ProgramSpec{},
	}
	for _, m := range sets {
		cs.Maps[m.Name] = setMapSpec(m)
	}
	if n := len(specs[0].Rules); n > 0 {
		addRuleMaps(cs, n)
	}
	for _, spec := range specs {
		insns, err := CaptureProgram(spec)
		if err != nil {
			return nil, err
		}
		ps := &ebpf.ProgramSpec{Name: programName(spec.Hook), Instructions: withoutSources(insns), License: captureLicense}
		switch spec.Hook {
		case HookXDP:
			ps.Type, ps.AttachType = ebpf.XDP, ebpf.AttachXDP
		case HookTCXIngress:
			ps.Type, ps.AttachType = ebpf.SchedCLS, ebpf.AttachTCXIngress
		case HookTCXEgress:
			ps.Type, ps.AttachType = ebpf.SchedCLS, ebpf.AttachTCXEgress
		}
		if _, dup := cs.Programs[ps.Name]; dup {
			return nil, fmt.Errorf("bpf: two capture programs for %s", spec.Hook)
		}
		cs.Programs[ps.Name] = ps
	}
	return cs, nil
}

// programName is the kernel's name of a hook's program (at most 15
// characters), which bpftool and the "already attached" errors show.
func programName(h CaptureHook) string {
	switch h {
	case HookXDP:
		return "weir_xdp"
	case HookTCXIngress:
		return "weir_tcx_in"
	}
	return "weir_tcx_out"
}

// LoadCapture loads the capture programs of specs with their maps. The
// verifier's log is in the error when it refuses one.
func LoadCapture(specs []CaptureSpec, ringBytes uint32, sets []SetMap) (*CaptureObjects, error) {
	cs, err := captureCollectionSpec(specs, ringBytes, sets)
	if err != nil {
		return nil, err
	}
	coll, err := ebpf.NewCollection(cs)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("bpf: the verifier refused the capture program: %+v", ve)
		}
		return nil, fmt.Errorf("bpf: loading the capture program: %w", err)
	}
	objs := &CaptureObjects{
		Programs: map[CaptureHook]*ebpf.Program{},
		Ring:     coll.Maps[RingMap],
		Counters: coll.Maps[CountersMap],
		SetMaps:  map[string]*ebpf.Map{},
	}
	objs.RuleCounters = coll.Maps[RuleCountersMap]
	for _, m := range sets {
		objs.SetMaps[m.Name] = coll.Maps[m.Name]
	}
	if err := fillSetMaps(objs.SetMaps, sets); err != nil {
		coll.Close()
		return nil, err
	}
	for _, spec := range specs {
		objs.Programs[spec.Hook] = coll.Programs[programName(spec.Hook)]
	}
	return objs, nil
}

// ReadCounters sums the per-CPU counters: records submitted and records
// lost for want of ring space.
func (o *CaptureObjects) ReadCounters() (submitted, dropped uint64, err error) {
	var perCPU [][CounterWords]uint64
	if err := o.Counters.Lookup(uint32(0), &perCPU); err != nil {
		return 0, 0, fmt.Errorf("bpf: reading the capture counters: %w", err)
	}
	for _, c := range perCPU {
		submitted += c[CounterSubmitted]
		dropped += c[CounterDropped]
	}
	return submitted, dropped, nil
}

// ReadRuleCounters sums each rule's per-CPU counters.
func (o *CaptureObjects) ReadRuleCounters() ([][RuleCounterWords]uint64, error) {
	if o.RuleCounters == nil {
		return nil, nil
	}
	return SumRuleCounters(o.RuleCounters)
}

// Close releases the programs and maps (attached programs stay until
// their links go).
func (o *CaptureObjects) Close() error {
	var first error
	for _, p := range o.Programs {
		if err := p.Close(); err != nil && first == nil {
			first = err
		}
	}
	maps := []*ebpf.Map{o.Ring, o.Counters, o.RuleCounters}
	for _, m := range o.SetMaps {
		maps = append(maps, m)
	}
	for _, m := range maps {
		if m == nil {
			continue
		}
		if err := m.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// withoutSources drops the classic instructions' text that the lowering
// attaches for dumps: given to the kernel it becomes BTF line info, which
// costs a BTF object, cilium/ebpf's probes for it (eight more bpf calls)
// and verifier time at every start, and changes nothing the program does.
func withoutSources(insns asm.Instructions) asm.Instructions {
	out := make(asm.Instructions, len(insns))
	for i, ins := range insns {
		out[i] = ins.WithSource(nil)
	}
	return out
}

// LoadSocketFilter loads a classic filter as an eBPF socket filter
// program, for SO_ATTACH_BPF, with the maps of its set lookups, returned
// by name so that they can be refilled (UpdateSetMap); the caller closes
// them and the program.
func LoadSocketFilter(p filter.Program, sets []SetMap) (*ebpf.Program, map[string]*ebpf.Map, error) {
	insns, err := SocketFilterProgram(p)
	if err != nil {
		return nil, nil, err
	}
	return LoadSocketProgram(insns, sets, 0)
}

// LoadSocketProgram loads a whole socket filter program (SocketFilterProgram
// or RulesSocketFilterProgram) with its set maps and, for
// rules, RuleCountersMap, RateMap and FlowRateMap; the maps are returned
// by name.
func LoadSocketProgram(insns asm.Instructions, sets []SetMap, rules int) (*ebpf.Program, map[string]*ebpf.Map, error) {
	cs := &ebpf.CollectionSpec{
		Maps: map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{"weir_filter": {
			Name: "weir_filter", Type: ebpf.SocketFilter, Instructions: withoutSources(insns), License: captureLicense,
		}},
	}
	for _, m := range sets {
		cs.Maps[m.Name] = setMapSpec(m)
	}
	if rules > 0 {
		addRuleMaps(cs, rules)
	}
	coll, err := ebpf.NewCollection(cs)
	var prog *ebpf.Program
	maps := map[string]*ebpf.Map{}
	if err == nil {
		err = fillSetMaps(coll.Maps, sets)
		if err == nil {
			prog = coll.DetachProgram("weir_filter")
			for name := range cs.Maps {
				maps[name] = coll.DetachMap(name)
			}
		}
		coll.Close()
	}
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, nil, fmt.Errorf("bpf: the verifier refused the socket filter: %+v", ve)
		}
		return nil, nil, fmt.Errorf("bpf: loading the socket filter: %w", err)
	}
	return prog, maps, nil
}

// addRuleMaps adds the maps of n rules to a collection.
func addRuleMaps(cs *ebpf.CollectionSpec, n int) {
	cs.Maps[RuleCountersMap] = &ebpf.MapSpec{Name: RuleCountersMap, Type: ebpf.PerCPUArray, KeySize: 4,
		ValueSize: 8 * RuleCounterWords, MaxEntries: uint32(n)}
	cs.Maps[RateMap] = &ebpf.MapSpec{Name: RateMap, Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: uint32(n)}
	cs.Maps[FlowRateMap] = &ebpf.MapSpec{Name: FlowRateMap, Type: ebpf.LRUHash, KeySize: FlowKeyLen, ValueSize: 8, MaxEntries: FlowRateEntries}
}

// SumRuleCounters sums each rule's per-CPU counters in m (RuleCountersMap).
func SumRuleCounters(m *ebpf.Map) ([][RuleCounterWords]uint64, error) {
	n := int(m.MaxEntries())
	out := make([][RuleCounterWords]uint64, n)
	for i := range out {
		var perCPU [][RuleCounterWords]uint64
		if err := m.Lookup(uint32(i), &perCPU); err != nil {
			return nil, fmt.Errorf("bpf: reading the rule counters: %w", err)
		}
		for _, c := range perCPU {
			for w := range c {
				out[i][w] += c[w]
			}
		}
	}
	return out, nil
}
