package filter

// scratch is memory a step of the optimizer uses only while it runs,
// shared by the steps.
type scratch []int32

// take returns n elements, making them only when the last take's did
// not have room; they hold garbage.
func (s *scratch) take(n int) []int32 {
	*s = resize(*s, n)
	return *s
}

func resize(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

func fill(s []int32, n int, v int32) []int32 {
	s = resize(s, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// classTable finds equal items by hash: open addressing over item ids,
// each slot holding an id of one class, or -1.
type classTable []int32

// tableSize returns the slots a classTable needs for up to n classes: a
// power of two with more than a fifth of it free.
func tableSize(n int) int {
	size := 1
	for size < n+n/4+1 {
		size *= 2
	}
	return size
}

// newClassTable makes an empty table of slots, which tableSize sized.
func newClassTable(slots []int32) classTable {
	for i := range slots {
		slots[i] = -1
	}
	return slots
}

// find returns the slot of the class with hash h: the slot holding an id
// for which same holds, or else the empty slot where the class goes.
func (t classTable) find(h uint32, same func(id int32) bool) int {
	mask := uint32(len(t) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if t[i] < 0 || same(t[i]) {
			return int(i)
		}
	}
}
