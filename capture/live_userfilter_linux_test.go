package capture

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/internal/testutil"
	"github.com/weircap/weir/pcap"
)

// refuseFilters makes every capture program of more than one instruction
// look refused by the kernel (as optmem_max would), until the test ends.
func refuseFilters(t *testing.T) {
	t.Helper()
	attachCapturing = func(fd int, p filter.Program) error {
		if len(p) > 1 {
			return unix.ENOMEM
		}
		return attachFilter(fd, p)
	}
	t.Cleanup(func() { attachCapturing = attachFilter })
}

// warnings are what FilterRefused says of a source.
type warnings struct{ errs []error }

func (w *warnings) of(src *Source) *Source {
	if err := src.FilterRefused(); err != nil {
		w.errs = append(w.errs, err)
	}
	return src
}

// refusal is the one KernelFilterError reported, or a test failure.
func (w *warnings) refusal(t *testing.T, label string) *KernelFilterError {
	t.Helper()
	if len(w.errs) != 1 {
		t.Fatalf("%s: warnings %v, want one", label, w.errs)
	}
	var kerr *KernelFilterError
	if !errors.As(w.errs[0], &kerr) {
		t.Fatalf("%s: warning %v is not a *KernelFilterError", label, w.errs[0])
	}
	return kerr
}

// The filter table run in user space gives exactly the kernel's answers,
// VLAN tests included: they read the tag the kernel kept aside through
// the metadata put in front of each frame.
func TestLiveUserSpaceFilterMatchesKernel(t *testing.T) {
	refuseFilters(t)
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	witness := collect(openIn(t, v, witnessConfig, ""))
	collectors := make([]*collector, len(liveExpressions))
	warned := make([]warnings, len(liveExpressions))
	for i, expr := range liveExpressions {
		collectors[i] = collect(warned[i].of(openIn(t, v, Config{Interface: testutil.CaptureIf}, expr)))
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, expr := range liveExpressions {
		var want [][]byte
		for _, f := range frames {
			if liveMatch(t, expr, f) {
				want = append(want, f)
			}
		}
		comparePackets(t, "user-space filter "+expr, collectors[i].finish(t), want, pcap.LinkTypeEthernet)
		if expr == "" {
			if len(warned[i].errs) != 0 {
				t.Errorf("no filter: warnings %v", warned[i].errs)
			}
			continue
		}
		kerr := warned[i].refusal(t, expr)
		if !errors.Is(kerr, unix.ENOMEM) || !strings.Contains(kerr.Error(), "net.core.optmem_max") ||
			!strings.Contains(kerr.Error(), testutil.CaptureIf+": ") || !strings.Contains(kerr.Error(), "filtering in user space") {
			t.Errorf("%s: warning %q", expr, kerr)
		}
	}
}

func TestLiveUserSpaceFilterOnAnyInterface(t *testing.T) {
	refuseFilters(t)
	v := testutil.NewVeth(t)
	frames := mixedFrames()[:9] // see TestLiveAnyInterfaceBuildsSLL2
	witness := collect(openIn(t, v, witnessConfig, ""))
	exprs := []string{"udp", "ip6 or arp", "ifindex " + strconv.Itoa(v.CaptureIndex), "inbound and tcp", "outbound"}
	collectors := make([]*collector, len(exprs))
	for i, expr := range exprs {
		collectors[i] = collect(openIn(t, v, Config{Interface: AnyInterface}, expr))
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, expr := range exprs {
		var want [][]byte
		for _, f := range frames {
			if c := sll2Of(f, v.CaptureIndex); offlineMatch(t, expr, pcap.LinkTypeLinuxSLL2, c) {
				want = append(want, c)
			}
		}
		comparePackets(t, "any, user-space filter "+expr, collectors[i].finish(t), want, pcap.LinkTypeLinuxSLL2)
	}
}

// sourceChain is a program for "ip src host" one of terms addresses, the
// last one being last, in the plain style of a long unoptimized "or" list:
// three instructions per address.
func sourceChain(terms int, last netip.Addr) filter.Program {
	p := filter.Program{
		{Op: filter.ClassLd | filter.SizeH | filter.ModeAbs, K: 12},
		{Op: filter.ClassJmp | filter.JmpJeq | filter.SrcK, K: 0x800, Jt: 1},
		{Op: filter.ClassRet | filter.SrcK, K: 0},
	}
	for i := range terms {
		addr := uint32(0x0a000001 + i<<8)
		if i == terms-1 {
			addr = binary.BigEndian.Uint32(last.AsSlice())
		}
		p = append(p,
			filter.Instruction{Op: filter.ClassLd | filter.SizeW | filter.ModeAbs, K: 26},
			filter.Instruction{Op: filter.ClassJmp | filter.JmpJeq | filter.SrcK, K: addr, Jf: 1},
			filter.Instruction{Op: filter.ClassRet | filter.SrcK, K: 262144})
	}
	return append(p, filter.Instruction{Op: filter.ClassRet | filter.SrcK, K: 0})
}

// Programs the real kernel refuses still capture exactly the matching
// frames, and Open says why the filter runs in user space.
func TestLiveKernelRefusesFilter(t *testing.T) {
	cases := []struct {
		name   string
		expr   string         // what the program does
		prog   filter.Program // nil: expr compiled
		reason func(err error) bool
	}{
		// Backward jumps: the kernel's checker refuses them.
		{"protochain", "ip protochain 17 or ip6 protochain 17", nil, func(err error) bool { return errors.Is(err, unix.EINVAL) }},
		// Longer than BPF_MAXINSNS.
		{"too long", "ip src host " + hostA.String(), sourceChain(1400, hostA), func(err error) bool {
			return strings.Contains(err.Error(), "more than the kernel's limit of 4096")
		}},
		// Under BPF_MAXINSNS but too big for the socket's optmem_max
		// (128 KiB by default); a larger setting lets the kernel take it.
		{"too big", "ip src host " + hostA.String(), sourceChain(1200, hostA), func(err error) bool { return errors.Is(err, unix.ENOMEM) }},
	}
	v := testutil.NewVeth(t)
	frames := mixedFrames()
	witness := collect(openIn(t, v, witnessConfig, ""))
	var collectors []*collector
	warned := make([]warnings, len(cases))
	for i, c := range cases {
		prog := c.prog
		if prog == nil {
			err := testutil.Do(v.Capture, func() error {
				fc, err := FilterConfig(testutil.CaptureIf)
				if err != nil {
					return err
				}
				prog, err = filter.Compile(c.expr, fc)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("%s: %d instructions", c.name, len(prog))
		collectors = append(collectors, collect(warned[i].of(openIn(t, v, Config{Interface: testutil.CaptureIf, Filter: prog}, ""))))
	}
	v.Inject(t, frames...)
	witness.waitCount(t, len(frames))
	witness.finish(t)
	for i, c := range cases {
		var want [][]byte
		for _, f := range frames {
			if liveMatch(t, c.expr, f) {
				want = append(want, f)
			}
		}
		if len(want) == 0 {
			t.Fatalf("%s: no test frame matches", c.name)
		}
		comparePackets(t, c.name, collectors[i].finish(t), want, pcap.LinkTypeEthernet)
		if c.name == "too big" && len(warned[i].errs) == 0 {
			t.Logf("too big: the kernel took it (net.core.optmem_max above the default?)")
			continue
		}
		if kerr := warned[i].refusal(t, c.name); !c.reason(kerr.Err) {
			t.Errorf("%s: refused for %v", c.name, kerr.Err)
		}
	}
}
