package filter

import "testing"

// benchProgram is tcpdump's optimized "tcp port 80 and (host 10.0.0.1 or
// host 10.0.0.2)" on Ethernet: 20 instructions.
var benchProgram = Program{
	{0x28, 0, 0, 0x0000000c},
	{0x15, 17, 0, 0x000086dd},
	{0x15, 0, 16, 0x00000800},
	{0x30, 0, 0, 0x00000017},
	{0x15, 0, 14, 0x00000006},
	{0x28, 0, 0, 0x00000014},
	{0x45, 12, 0, 0x00001fff},
	{0xb1, 0, 0, 0x0000000e},
	{0x48, 0, 0, 0x0000000e},
	{0x15, 2, 0, 0x00000050},
	{0x48, 0, 0, 0x00000010},
	{0x15, 0, 7, 0x00000050},
	{0x20, 0, 0, 0x0000001a},
	{0x15, 4, 0, 0x0a000001},
	{0x15, 3, 0, 0x0a000002},
	{0x20, 0, 0, 0x0000001e},
	{0x15, 1, 0, 0x0a000001},
	{0x15, 0, 1, 0x0a000002},
	{0x6, 0, 0, 0x00040000},
	{0x6, 0, 0, 0x00000000},
}

// benchPacket is a TCP segment 192.168.1.5:40000 -> 10.0.0.2:80 that walks
// 17 of benchProgram's instructions to its accepting return.
func benchPacket() []byte {
	p := make([]byte, 74)
	p[12], p[13] = 0x08, 0x00
	p[14] = 0x45
	p[23] = 6
	copy(p[26:], []byte{192, 168, 1, 5, 10, 0, 0, 2})
	copy(p[34:], []byte{0x9c, 0x40, 0, 80})
	return p
}

func BenchmarkRun(b *testing.B) {
	pkt := benchPacket()
	if got := Run(benchProgram, pkt, len(pkt)); got != 262144 {
		b.Fatalf("Run = %d, want 262144", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		Run(benchProgram, pkt, len(pkt))
	}
}

func BenchmarkVMRun(b *testing.B) {
	pkt := benchPacket()
	vm, err := NewVM(benchProgram)
	if err != nil {
		b.Fatal(err)
	}
	if got := vm.Run(pkt, len(pkt)); got != 262144 {
		b.Fatalf("VM.Run = %d, want 262144", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		vm.Run(pkt, len(pkt))
	}
}
