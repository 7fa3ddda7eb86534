package bpf

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// kernelSets are sets over the generated Ethernet capture's addresses.
func kernelSets(t testing.TB) map[string]*filter.Set {
	t.Helper()
	texts := map[string]string{
		"hosts": "198.18.0.10\nfd00:beef::1\n198.19.200.2\n198.18.0.1\n",
		"nets":  "198.19.200.0/24\nfd00:beef::100/120\n198.18.1.20\n198.18.0.0/30\n198.19.0.0/16\nfd00:bee0::/28\n",
		"ports": "80\n53\n1000-1100\n5432\n6000-6010\n",
		"macs":  "02:be:ef:00:00:01\n02:be:ef:00:01:02\n02:be:ef:00:00:10\n",
	}
	sets := map[string]*filter.Set{}
	for name, text := range texts {
		s, err := filter.ParseSet(name, name+".txt", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		sets[name] = s
	}
	return sets
}

var kernelSetExpressions = []string{
	"host @hosts", "src and dst host @hosts", "ip6 dst host @hosts", "arp host @hosts",
	"net @nets", "src net @nets and tcp", "port @ports", "tcp dst port @ports", "ip6 and udp port @ports",
	"portrange @ports", "ether host @macs", "ether src @macs and not port @ports",
	"vlan and host @hosts", "host @hosts and port @ports or ether dst @macs",
}

// loadWithSets completes a fragment and loads it with its set maps.
func loadWithSets(tg Target, frag asm.Instructions, maps []SetMap) (*ebpf.Collection, *ebpf.Program, error) {
	insns := append(append(asm.Instructions{}, withoutSources(frag)...), completion(tg)...)
	cs := &ebpf.CollectionSpec{
		Maps:     map[string]*ebpf.MapSpec{},
		Programs: map[string]*ebpf.ProgramSpec{"p": {Type: programTypes[tg], Instructions: insns, License: "GPL"}},
	}
	for _, m := range maps {
		cs.Maps[m.Name] = setMapSpec(m)
	}
	coll, err := ebpf.NewCollection(cs)
	if err == nil {
		err = fillSetMaps(coll.Maps, maps)
	}
	if err != nil {
		var verr *ebpf.VerifierError
		if errors.As(err, &verr) {
			return nil, nil, fmt.Errorf("%w\n%+v", err, verr)
		}
		return nil, nil, err
	}
	return coll, coll.Programs["p"], nil
}

// readEthernetCapture reads the generated Ethernet capture.
func readEthernetCapture(t testing.TB) (packets [][]byte, lengths []int) {
	t.Helper()
	f, err := os.Open("../testdata/captures/en10mb.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcap.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacket()
		if err == io.EOF {
			return packets, lengths
		}
		if err != nil {
			t.Fatal(err)
		}
		packets, lengths = append(packets, bytes.Clone(data)), append(lengths, ci.Length)
	}
}

// TestKernelSetLookupsEqualVM: programs with set lookups, lowered for each
// target and loaded with their maps, pass the verifier and give every
// packet of the generated capture the verdict of weir's VM.
func TestKernelSetLookupsEqualVM(t *testing.T) {
	requireBPF(t)
	sets := kernelSets(t)
	packets, lengths := readEthernetCapture(t)
	runs := 0
	for _, tg := range []Target{TargetSocketFilter, TargetXDP, TargetTCX} {
		runner, err := newKernelRunner(tg)
		if err != nil {
			t.Fatal(err)
		}
		defer runner.Close()
		for _, expr := range kernelSetExpressions {
			prog, err := filter.Compile(expr, filter.Config{LinkType: pcap.LinkTypeEthernet, Optimize: true, Sets: sets, SetLookups: true})
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			vm, err := filter.NewVMWithSets(prog, sets)
			if err != nil {
				t.Fatal(err)
			}
			frag, err := Lower(prog, tg)
			if err != nil {
				t.Fatalf("%v, %q: %v", tg, expr, err)
			}
			maps, err := SetMaps(prog, sets)
			if err != nil {
				t.Fatal(err)
			}
			coll, kprog, err := loadWithSets(tg, frag, maps)
			if err != nil {
				t.Fatalf("%v, %q: %v\n%s", tg, expr, err, Format(frag))
			}
			if err := runner.use(kprog); err != nil {
				t.Fatal(err)
			}
			for i, data := range packets {
				if !runner.runnable(data) {
					continue
				}
				want := vm.Run(data, lengths[i])
				ok, did, err := runner.matches(kprog, data, want)
				if err != nil {
					t.Fatalf("%v, %q, packet %d: %v", tg, expr, i+1, err)
				}
				if !ok {
					t.Errorf("%v, %q, packet %d: the kernel %s, the VM says %d", tg, expr, i+1, did, want)
				}
				runs++
			}
			coll.Close()
		}
	}
	if runs < 3000 {
		t.Errorf("only %d kernel runs", runs)
	}
}

// TestUpdateSetMap: a map updated in place holds exactly the new set's
// keys, and a set grown beyond the map's room is refused untouched.
func TestUpdateSetMap(t *testing.T) {
	requireBPF(t)
	parse := func(text string) *filter.Set {
		s, err := filter.ParseSet("s", "s.txt", strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	old := BuildSetMaps(0, filter.LookupIPv4, parse("10.0.0.0/8\n198.18.0.1\n198.19.0.0/16\n"))
	loaded, err := newSetMaps(old)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, m := range loaded {
			m.Close()
		}
	}()
	next := BuildSetMaps(0, filter.LookupIPv4, parse("198.18.0.1\n192.0.2.0/24\n"))
	for _, m := range next {
		if err := UpdateSetMap(loaded[m.Name], m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, m := range next {
		var k [8]byte
		var v uint8
		it := loaded[m.Name].Iterate()
		for it.Next(&k, &v) {
			got = append(got, fmt.Sprintf("%d.%d.%d.%d/%d", k[4], k[5], k[6], k[7], k[0]))
		}
	}
	slices.Sort(got)
	if want := []string{"192.0.2.0/24", "198.18.0.1/32"}; !slices.Equal(got, want) {
		t.Errorf("after the update the maps hold %v, want %v", got, want)
	}
	var big strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&big, "10.%d.%d.0/24\n", i/256, i%256)
	}
	grown := BuildSetMaps(0, filter.LookupIPv4, parse(big.String()))
	if err := UpdateSetMap(loaded[grown[0].Name], grown[0]); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("a set beyond the map's room: %v, want a refusal", err)
	}
}
