package testutil

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

var (
	retK      = func(k uint32) unix.SockFilter { return stmt(unix.BPF_RET|unix.BPF_K, k) }
	retA      = stmt(unix.BPF_RET|unix.BPF_A, 0)
	ldLen     = stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_LEN, 0)
	acceptAll = []unix.SockFilter{retK(0xffffffff)}
)

// bytesOf returns n bytes counting up from 1, so that every prefix differs.
func bytesOf(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i + 1)
	}
	return b
}

func TestKernelVerdict(t *testing.T) {
	tests := []struct {
		name      string
		prog      []unix.SockFilter
		data      []byte
		delivered bool
		kept      int
	}{
		{"accept all", acceptAll, bytesOf(60), true, 60},
		{"accept all, empty datagram", acceptAll, nil, true, 0},
		{"accept all, jumbo frame", acceptAll, bytesOf(9014), true, 9014},
		{"reject all", []unix.SockFilter{retK(0)}, bytesOf(60), false, 0},
		{"reject all, empty datagram", []unix.SockFilter{retK(0)}, nil, false, 0},
		{"ret #4 truncates", []unix.SockFilter{retK(4)}, bytesOf(60), true, 4},
		{"ret #4 on 2 bytes keeps 2", []unix.SockFilter{retK(4)}, bytesOf(2), true, 2},
		{"ret #1", []unix.SockFilter{retK(1)}, bytesOf(60), true, 1},
		{"ret len", []unix.SockFilter{ldLen, retA}, bytesOf(37), true, 37},
		{"len is the datagram's length", []unix.SockFilter{ldLen, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 37, 0, 1), retK(5), retK(0)}, bytesOf(37), true, 5},
		{"len of another length", []unix.SockFilter{ldLen, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 37, 0, 1), retK(5), retK(0)}, bytesOf(38), false, 0},
		{"ret of a loaded byte", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 2), retA}, bytesOf(60), true, 3},
		{"halfword loads are big-endian", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_H|unix.BPF_ABS, 0), retA}, []byte{0, 7, 0, 0, 0, 0, 0, 0, 0}, true, 7},
		{"byte load at the last byte", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 9), retK(0xffff)}, bytesOf(10), true, 10},
		{"byte load past the end rejects", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 10), retK(0xffff)}, bytesOf(10), false, 0},
		{"word load overlapping the end rejects", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 8), retK(0xffff)}, bytesOf(11), false, 0},
		{"indexed load past the end rejects", []unix.SockFilter{stmt(unix.BPF_LDX|unix.BPF_IMM, 6), stmt(unix.BPF_LD|unix.BPF_H|unix.BPF_IND, 3), retK(0xffff)}, bytesOf(10), false, 0},
		{"indexed load inside", []unix.SockFilter{stmt(unix.BPF_LDX|unix.BPF_IMM, 6), stmt(unix.BPF_LD|unix.BPF_H|unix.BPF_IND, 2), retK(0xffff)}, bytesOf(10), true, 10},
		{"division by zero rejects", []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_IMM, 8), stmt(unix.BPF_ALU|unix.BPF_DIV|unix.BPF_X, 0), retK(0xffff)}, bytesOf(10), false, 0},
	}
	for _, tt := range tests {
		kept, delivered, err := KernelVerdict(tt.prog, tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if delivered != tt.delivered || kept != tt.kept {
			t.Errorf("%s: delivered %v with %d bytes, want %v with %d", tt.name, delivered, kept, tt.delivered, tt.kept)
		}
	}
}

func TestKernelVerdictRefusesBadPrograms(t *testing.T) {
	for _, p := range [][]unix.SockFilter{
		nil,
		{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 0)},              // no return at the end
		{jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, 0, 5, 0), retA}, // jump past the end
	} {
		if _, _, err := KernelVerdict(p, bytesOf(10)); !errors.Is(err, unix.EINVAL) {
			t.Errorf("%v: got %v, want EINVAL", p, err)
		}
	}
}

// TestKernelFilterReplacesPrograms reuses one pair for several programs
// and packets, and checks that a dropped datagram leaves nothing behind
// for the next one.
func TestKernelFilterReplacesPrograms(t *testing.T) {
	k, err := NewKernelFilter()
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	steps := []struct {
		prog      []unix.SockFilter
		size      int
		delivered bool
		kept      int
	}{
		{[]unix.SockFilter{retK(0)}, 20, false, 0},
		{acceptAll, 20, true, 20},
		{[]unix.SockFilter{retK(3)}, 20, true, 3},
		{[]unix.SockFilter{retK(0)}, 30, false, 0},
		{acceptAll, 30, true, 30},
	}
	for i, s := range steps {
		if err := k.Attach(s.prog); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		for range 3 {
			kept, delivered, err := k.Run(bytesOf(s.size))
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			if delivered != s.delivered || kept != s.kept {
				t.Errorf("step %d: delivered %v with %d bytes, want %v with %d", i, delivered, kept, s.delivered, s.kept)
			}
		}
	}
}
