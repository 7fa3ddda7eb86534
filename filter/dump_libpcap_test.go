package filter

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/weircap/weir/internal/testutil"
)

// bpfImageScript prints libpcap's bpf_image for instructions read from
// stdin ("op jt jf k index" per line). Without cgo, Python's ctypes is how
// the tests reach the very function tcpdump -d prints with.
const bpfImageScript = `
import ctypes, ctypes.util, sys
name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
lib = ctypes.CDLL(name)
class Insn(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]
lib.bpf_image.restype = ctypes.c_char_p
lib.bpf_image.argtypes = [ctypes.POINTER(Insn), ctypes.c_int]
for line in sys.stdin:
    op, jt, jf, k, n = (int(f) for f in line.split())
    image = lib.bpf_image(ctypes.byref(Insn(op, jt, jf, k)), n).decode()
    print("%d %d %d %d %d\t%s" % (op, jt, jf, k, n, image))
`

// opcodeSamples lists the instructions whose images the golden holds:
// every 8-bit opcode with small, negative and extreme operands, and the
// ancillary offsets around the kernel's SKF_AD_OFF.
func opcodeSamples() []string {
	var lines []string
	for op := 0; op < 256; op++ {
		lines = append(lines,
			fmt.Sprintf("%d 0 0 0 0", op),
			fmt.Sprintf("%d 1 2 12 5", op),
			fmt.Sprintf("%d 255 255 4294967295 1234", op),
			fmt.Sprintf("%d 3 0 2147483648 999", op))
	}
	for _, op := range []uint16{opLdW, opLdH, opLdB} {
		for off := uint32(0); off <= 68; off += 4 {
			lines = append(lines, fmt.Sprintf("%d 0 0 %d 1", op, ancillaryBase+off))
		}
		lines = append(lines, fmt.Sprintf("%d 0 0 %d 1", op, ancillaryBase+2), fmt.Sprintf("%d 0 0 %d 1", op, uint32(0xfff00000)))
	}
	lines = append(lines, "256 0 0 0 0", "65535 1 1 1 1")
	return lines
}

func writeOpcodesGolden(t *testing.T) {
	python := testutil.RequireTool(t, "python3", "python3")
	cmd := exec.Command(python, "-c", bpfImageScript)
	cmd.Stdin = strings.NewReader(strings.Join(opcodeSamples(), "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bpf_image through python3 and libpcap (apt-get install -y libpcap0.8): %v: %s", err, stderr.String())
	}
	if err := os.WriteFile(opcodesGolden, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// parseOpcodeLine reads "op jt jf k index\timage".
func parseOpcodeLine(line string) (Instruction, int, string, error) {
	head, image, ok := strings.Cut(line, "\t")
	fields := strings.Fields(head)
	if !ok || len(fields) != 5 {
		return Instruction{}, 0, "", fmt.Errorf("bad line %q", line)
	}
	var v [5]uint64
	for i, bits := range [5]int{16, 8, 8, 32, 31} {
		n, err := strconv.ParseUint(fields[i], 10, bits)
		if err != nil {
			return Instruction{}, 0, "", fmt.Errorf("bad line %q: %v", line, err)
		}
		v[i] = n
	}
	ins := Instruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
	return ins, int(v[4]), image, nil
}
