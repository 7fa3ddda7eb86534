package bpf

import (
	"github.com/cilium/ebpf"
)

// setMapSpec is the kernel map of a SetMap: an LPM trie or a hash map,
// allocated as entries arrive (LPM tries must be; hash maps then cost
// nothing for the room left to grow), with its keys.
func setMapSpec(m SetMap) *ebpf.MapSpec {
	spec := &ebpf.MapSpec{
		Name: m.Name, Type: ebpf.Hash, KeySize: m.KeySize, ValueSize: 1,
		MaxEntries: m.MaxEntries, Flags: bpfFNoPrealloc,
	}
	if m.LPM() {
		spec.Type = ebpf.LPMTrie
	}
	for i := 0; i < m.Len(); i++ {
		key := m.Keys[i*int(m.KeySize) : (i+1)*int(m.KeySize)]
		spec.Contents = append(spec.Contents, ebpf.MapKV{Key: key, Value: []byte{1}})
	}
	return spec
}

// bpfFNoPrealloc is BPF_F_NO_PREALLOC.
const bpfFNoPrealloc = 1
