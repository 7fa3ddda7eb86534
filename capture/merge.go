package capture

// batch is one retired ring block, its packets located and rebuilt.
type batch struct {
	ring  int // index of the ring (socket) it came from
	block int // index of the block in that ring
	refs  []packetRef
	next  int   // next packet to return
	err   error // the block was malformed after refs
	end   bool  // the ring has no more blocks (after Stop)
}

// batchQueue is a fixed-capacity FIFO of batches, allocated once.
type batchQueue struct {
	items []*batch
	head  int
	n     int
}

func newBatchQueue(capacity int) batchQueue {
	return batchQueue{items: make([]*batch, capacity)}
}

func (q *batchQueue) push(b *batch) {
	if q.n == len(q.items) {
		q.items = append(q.items[q.head:], q.items[:q.head]...)
		q.items = append(q.items, make([]*batch, len(q.items)+1)...)
		q.head = 0
	}
	q.items[(q.head+q.n)%len(q.items)] = b
	q.n++
}

func (q *batchQueue) front() *batch {
	if q.n == 0 {
		return nil
	}
	return q.items[q.head]
}

func (q *batchQueue) pop() {
	q.items[q.head] = nil
	q.head = (q.head + 1) % len(q.items)
	q.n--
}

// merger interleaves the batches of several rings by timestamp. Within a
// ring packets keep the kernel's order. Across rings, next returns the
// earliest of the packets the kernel has already handed over; a packet
// still in a block the kernel holds (at most one block timeout) can come
// later with an earlier timestamp.
type merger struct {
	queues []batchQueue
	ended  int
}

func newMerger(rings, blocksPerRing int) merger {
	m := merger{queues: make([]batchQueue, rings)}
	for i := range m.queues {
		m.queues[i] = newBatchQueue(blocksPerRing)
	}
	return m
}

// add queues a batch with packets; an end marker counts the ring as done.
func (m *merger) add(b *batch) {
	if b.end {
		m.ended++
		return
	}
	m.queues[b.ring].push(b)
}

// done reports that every ring has ended and no packet is left.
func (m *merger) done() bool {
	if m.ended < len(m.queues) {
		return false
	}
	for i := range m.queues {
		if m.queues[i].n > 0 {
			return false
		}
	}
	return true
}

// next returns the batch holding the earliest queued packet and that
// packet; exhausted is true when it was the batch's last, which the caller
// then releases once the packet's data is no longer in use. b is nil when
// nothing is queued.
func (m *merger) next() (b *batch, ref *packetRef, exhausted bool) {
	for i := range m.queues {
		c := m.queues[i].front()
		if c == nil {
			continue
		}
		if b == nil || c.refs[c.next].less(&b.refs[b.next]) {
			b = c
		}
	}
	if b == nil {
		return nil, nil, false
	}
	ref = &b.refs[b.next]
	b.next++
	if b.next == len(b.refs) {
		m.queues[b.ring].pop()
		exhausted = true
	}
	return b, ref, exhausted
}
