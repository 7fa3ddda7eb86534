package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
)

// setMapSpec is the kernel map of a SetMap, empty (fillSetMap fills it):
// an LPM trie or a hash map, allocated as entries arrive (LPM tries must
// be; hash maps then cost nothing for the room left to grow).
func setMapSpec(m SetMap) *ebpf.MapSpec {
	spec := &ebpf.MapSpec{
		Name: m.Name, Type: ebpf.Hash, KeySize: m.KeySize, ValueSize: 1,
		MaxEntries: m.MaxEntries, Flags: bpfFNoPrealloc,
	}
	if m.LPM() {
		spec.Type = ebpf.LPMTrie
	}
	return spec
}

// bpfFNoPrealloc is BPF_F_NO_PREALLOC.
const bpfFNoPrealloc = 1

// fillSetMap writes the keys of m into em in batches, in address order:
// an LPM trie takes sorted keys about a third faster (its walks stay in
// the cache). Kernels without batch updates get one update per key.
func fillSetMap(em *ebpf.Map, m SetMap) error {
	n, size := m.Len(), int(m.KeySize)
	if n == 0 {
		return nil
	}
	flat := m.Keys
	if m.LPM() {
		flat = sortedByAddress(m.Keys, size)
	}
	values := bytes.Repeat([]byte{1}, n)
	const batch = 65536
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		_, err := em.BatchUpdate(typedKeys(flat[start*size:end*size], size), values[start:end], nil)
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fillOneByOne(em, flat, size)
		}
		if err != nil {
			return fmt.Errorf("bpf: filling %s: %w", m.Name, err)
		}
	}
	return nil
}

// typedKeys views flat keys of size bytes as a slice of arrays, which
// cilium/ebpf counts and passes to the kernel as they are.
func typedKeys(flat []byte, size int) any {
	switch size {
	case 2:
		return asArrays[[2]byte](flat)
	case 6:
		return asArrays[[6]byte](flat)
	case 8:
		return asArrays[[8]byte](flat)
	}
	return asArrays[[20]byte](flat)
}

func asArrays[K [2]byte | [6]byte | [8]byte | [20]byte](flat []byte) []K {
	var k K
	return unsafe.Slice((*K)(unsafe.Pointer(unsafe.SliceData(flat))), len(flat)/len(k))
}

// sortedByAddress returns LPM keys (prefix length, then address) in
// address order. IPv4 keys sort as integers: address and position packed
// in one word.
func sortedByAddress(keys []byte, size int) []byte {
	n := len(keys) / size
	out := make([]byte, 0, len(keys))
	if size == 8 {
		order := make([]uint64, n)
		for i := range order {
			order[i] = uint64(binary.BigEndian.Uint32(keys[i*8+4:]))<<32 | uint64(i)
		}
		slices.Sort(order)
		for _, o := range order {
			i := int(uint32(o))
			out = append(out, keys[i*8:i*8+8]...)
		}
		return out
	}
	rows := make([][]byte, n)
	for i := range rows {
		rows[i] = keys[i*size : (i+1)*size]
	}
	slices.SortFunc(rows, func(a, b []byte) int { return bytes.Compare(a[4:], b[4:]) })
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// fillOneByOne is fillSetMap for kernels without BPF_MAP_UPDATE_BATCH.
func fillOneByOne(em *ebpf.Map, flat []byte, size int) error {
	for i := 0; i < len(flat); i += size {
		if err := em.Update(flat[i:i+size], []byte{1}, ebpf.UpdateAny); err != nil {
			return fmt.Errorf("bpf: filling %s: %w", em.String(), err)
		}
	}
	return nil
}

// fillSetMaps fills the maps (loaded is keyed by SetMap name) in
// parallel: each kernel map has a lock of its own.
func fillSetMaps(loaded map[string]*ebpf.Map, maps []SetMap) error {
	errs := make([]error, len(maps))
	var wg sync.WaitGroup
	for i, m := range maps {
		wg.Go(func() { errs[i] = fillSetMap(loaded[m.Name], m) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// newSetMaps creates and fills maps outside a collection.
func newSetMaps(maps []SetMap) (map[string]*ebpf.Map, error) {
	loaded := map[string]*ebpf.Map{}
	for _, m := range maps {
		em, err := ebpf.NewMap(setMapSpec(m))
		if err != nil {
			for _, l := range loaded {
				l.Close()
			}
			return nil, err
		}
		loaded[m.Name] = em
	}
	return loaded, fillSetMaps(loaded, maps)
}

// UpdateSetMap makes em hold exactly the keys of m, in place, for a set
// reloaded while its program runs: the new keys are written first and
// the stale ones deleted after, so a key in both sets is never missing.
// A set grown beyond the map's room is refused before anything changes.
func UpdateSetMap(em *ebpf.Map, m SetMap) error {
	if uint32(m.Len()) > em.MaxEntries() {
		return fmt.Errorf("bpf: %s: %d entries, more than the %d its map has room for", m.Name, m.Len(), em.MaxEntries())
	}
	size := int(m.KeySize)
	keep := make(map[string]bool, m.Len())
	for i := 0; i < m.Len(); i++ {
		keep[string(m.Keys[i*size:(i+1)*size])] = true
	}
	var stale [][]byte
	key, value := make([]byte, size), make([]byte, 1)
	it := em.Iterate()
	for it.Next(&key, &value) {
		if !keep[string(key)] {
			stale = append(stale, bytes.Clone(key))
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("bpf: reading %s: %w", m.Name, err)
	}
	if err := fillSetMap(em, m); err != nil {
		return err
	}
	for _, k := range stale {
		if err := em.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return fmt.Errorf("bpf: updating %s: %w", m.Name, err)
		}
	}
	return nil
}
