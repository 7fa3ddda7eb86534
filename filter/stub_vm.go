package filter

// Run executes p on a packet as the kernel would: data holds the captured
// bytes, wireLen the length on the wire. It returns the number of bytes to
// keep, 0 to reject. A load beyond the captured bytes rejects.
func Run(p Program, data []byte, wireLen int) uint32 { panic("vm not implemented") }

// Validate checks that p is a program the kernel accepts.
func Validate(p Program) error { panic("validator not implemented") }

// DumpFormat selects one of tcpdump's program dumps.
type DumpFormat int

// Dump formats, as tcpdump -d, -dd and -ddd.
const (
	DumpAssembly DumpFormat = 1 // -d: "(000) ldh      [12]"
	DumpC        DumpFormat = 2 // -dd: "{ 0x28, 0, 0, 0x0000000c },"
	DumpDecimal  DumpFormat = 3 // -ddd: count line, then "40 0 0 12"
)

// Dump renders p exactly as tcpdump prints it in the given format.
func Dump(p Program, f DumpFormat) string { panic("dump not implemented") }
