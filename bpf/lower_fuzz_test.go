package bpf

import (
	"encoding/binary"
	"testing"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// FuzzLower feeds arbitrary classic programs to Lower (each 8 bytes of
// input an instruction; its opcode byte picks one of the opcodes filter.Run
// knows, jump offsets stay small so that they land in the program): it
// must not panic, what it returns must keep the contract, and interpreted
// on a few packets it must give boundedRun's verdicts.
func FuzzLower(f *testing.F) {
	for _, expr := range []string{"tcp port 80", "protochain 6", "ip[0] << ip[9] = 0", "ether[len - 1] = 0x33", "ip[2:2] / (ip[9] - 6) > 10"} {
		prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(encodeProgram(prog))
	}
	syn := []byte{
		0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00,
		0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
	}
	packets := [][]byte{syn, ipv6Chain(3), syn[:9], {}}
	f.Fuzz(func(t *testing.T, data []byte) {
		prog := decodeProgram(data)
		for _, tg := range targets {
			frag, err := Lower(prog, tg)
			if err != nil {
				continue
			}
			if err := checkContract(frag, tg); err != nil {
				t.Fatalf("%v: %v\n%s\n%s", tg, err, filter.Dump(prog, filter.DumpAssembly), Format(frag))
			}
			if readsAncillary(prog) {
				continue
			}
			for _, p := range packets {
				want, _ := boundedRun(prog, p)
				if got, err := interpret(frag, tg, p); err != nil || got != want {
					t.Fatalf("%v on %d bytes: interpreted %d (%v), want %d\n%s\n%s", tg, len(p), got, err, want,
						filter.Dump(prog, filter.DumpAssembly), Format(frag))
				}
			}
		}
	})
}

// fuzzOpcodes are the opcodes filter.Run knows.
var fuzzOpcodes = func() []uint16 {
	var out []uint16
	for op := 0; op < 0x100; op++ {
		if knownOpcode(uint16(op)) {
			out = append(out, uint16(op))
		}
	}
	return out
}()

func encodeProgram(p filter.Program) []byte {
	index := map[uint16]byte{}
	for i, op := range fuzzOpcodes {
		index[op] = byte(i)
	}
	out := make([]byte, 0, 8*len(p))
	for _, ins := range p {
		out = append(out, index[ins.Op], 0, ins.Jt, ins.Jf)
		out = binary.LittleEndian.AppendUint32(out, ins.K)
	}
	return out
}

// decodeProgram reads instructions, keeping conditional jumps inside the
// program and the last instruction a return; byte 1 unused but for ja's
// direction (odd: backward).
func decodeProgram(data []byte) filter.Program {
	var p filter.Program
	for len(data) >= 8 && len(p) < 64 {
		ins := filter.Instruction{
			Op: fuzzOpcodes[int(data[0])%len(fuzzOpcodes)], Jt: data[2], Jf: data[3], K: binary.LittleEndian.Uint32(data[4:]),
		}
		if ins.Op == filter.ClassJmp|filter.JmpJa {
			ins.K %= 8
			if data[1]&1 == 1 {
				ins.K = -ins.K - 1
			}
		}
		p = append(p, ins)
		data = data[8:]
	}
	p = append(p, filter.Instruction{Op: filter.ClassRet | filter.SrcA})
	for i := range p {
		if filter.Class(p[i].Op) == filter.ClassJmp {
			room := len(p) - i - 1
			p[i].Jt, p[i].Jf = uint8(int(p[i].Jt)%room), uint8(int(p[i].Jf)%room)
		}
	}
	return p
}
