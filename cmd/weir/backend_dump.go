package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
)

// dumpBackend is the backend whose program -d prints: the one asked for,
// or auto's first choice.
func (c *command) dumpBackend() backend {
	if c.opts.backend == backendAuto {
		return autoChain(c.opts.direction, c.opts.fanout)[0]
	}
	return c.opts.backend
}

// dumpEBPF prints the eBPF program of an eBPF backend: the socket filter,
// or the XDP or tcx capture program around the filter (one per tcx
// direction, each after a "; hook" line).
func (c *command) dumpEBPF(b backend, expr string) int {
	cfg := dumpConfig(b, c.liveSnaplen(), !c.opts.noOptimize)
	if c.opts.iface != "" {
		device, err := resolveDevice(c.system, c.opts.iface)
		if err != nil {
			c.errorf("%s", liveErrorText(err))
			return 1
		}
		if b == backendEBPF {
			cfg, err = c.system.FilterConfig(device)
		} else {
			cfg, err = c.system.HookFilterConfig(device, b.hook())
		}
		if err != nil {
			c.reportOpenError(device, err)
			return 1
		}
		cfg.Snaplen, cfg.Optimize = c.liveSnaplen(), !c.opts.noOptimize
	}
	cfg.SetLookups = len(c.sets) > 0
	prog, ok := c.compile(expr, cfg)
	if !ok {
		return 1
	}
	programs, err := ebpfPrograms(b, prog, c.liveSnaplen(), c.opts.direction)
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	return c.printPrograms(programs)
}

// printPrograms writes programs in -d's format, each after a "; name"
// line when there are several.
func (c *command) printPrograms(programs []namedProgram) int {
	var out strings.Builder
	for _, p := range programs {
		if len(programs) > 1 {
			fmt.Fprintf(&out, "; %s\n", p.name)
		}
		text, err := formatEBPF(p.insns, c.opts.dump)
		if err != nil {
			c.errorf("%s", err)
			return 1
		}
		out.WriteString(text)
	}
	if _, err := io.WriteString(c.stdout, out.String()); err != nil {
		c.errorf("stdout: %s", describe(err))
		return 1
	}
	return 0
}

// namedProgram is one eBPF program of a backend.
type namedProgram struct {
	name  string
	insns asm.Instructions
}

// ebpfPrograms builds a backend's programs for the compiled filter.
func ebpfPrograms(b backend, prog filter.Program, snaplen uint32, dir capture.Direction) ([]namedProgram, error) {
	if len(prog) == 0 {
		prog = filter.Program{{Op: filter.ClassRet | filter.SrcK, K: snaplen}}
	}
	if b == backendEBPF {
		insns, err := bpf.SocketFilterProgram(prog)
		return []namedProgram{{"socket filter", insns}}, err
	}
	var out []namedProgram
	for _, h := range dumpHooks(b, dir) {
		frag, err := bpf.Lower(prog, h.Target())
		if err != nil {
			return nil, err
		}
		insns, err := bpf.CaptureProgram(bpf.CaptureSpec{Hook: h, Snaplen: snaplen, Filter: frag})
		if err != nil {
			return nil, err
		}
		out = append(out, namedProgram{h.String(), insns})
	}
	return out, nil
}

// dumpHooks are the hooks a backend's programs run at.
func dumpHooks(b backend, dir capture.Direction) []bpf.CaptureHook {
	if b != backendTC {
		return []bpf.CaptureHook{bpf.HookXDP}
	}
	switch dir {
	case capture.DirectionIn:
		return []bpf.CaptureHook{bpf.HookTCXIngress}
	case capture.DirectionOut:
		return []bpf.CaptureHook{bpf.HookTCXEgress}
	}
	return []bpf.CaptureHook{bpf.HookTCXIngress, bpf.HookTCXEgress}
}

// formatEBPF renders a program as -d (readable), -dd (C initializers of
// struct bpf_insn) or -ddd (decimal: the count, then code, registers,
// offset and immediate per instruction), as tcpdump's three forms for
// classic BPF. Map references are left as 0 in -dd and -ddd.
func formatEBPF(insns asm.Instructions, format dumpFormat) (string, error) {
	if format <= 1 {
		return bpf.Format(insns), nil
	}
	var raw bytes.Buffer
	if err := slices.Clone(insns).Marshal(&raw, binary.LittleEndian); err != nil {
		return "", fmt.Errorf("encoding the program: %w", err)
	}
	b := raw.Bytes()
	var out strings.Builder
	if format == 3 {
		fmt.Fprintf(&out, "%d\n", len(b)/8)
	}
	for i := 0; i+8 <= len(b); i += 8 {
		code, regs := b[i], b[i+1]
		off := int16(binary.LittleEndian.Uint16(b[i+2:]))
		imm := int32(binary.LittleEndian.Uint32(b[i+4:]))
		if format == 2 {
			fmt.Fprintf(&out, "{ 0x%02x, %d, %d, %d, %#08x },\n", code, regs&0xf, regs>>4, off, uint32(imm))
		} else {
			fmt.Fprintf(&out, "%d %d %d %d %d\n", code, regs&0xf, regs>>4, off, imm)
		}
	}
	return out.String(), nil
}
