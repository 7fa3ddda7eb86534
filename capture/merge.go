package capture

// The rings of a fanout group are merged by timestamp. Within a ring the
// kernel's order is kept. Across rings the earliest of the packets handed
// over goes first, with a watermark for the packets not handed over yet: a
// block the kernel is still filling has been opened at a recorded time
// before any of its packets was stamped, so a packet stamped after that
// time waits until the block is handed over (when it is full, or by its
// retire timer). It waits only while the rings have room: once half of a
// ring with packets is ready, the earliest packet goes out, as loss would
// cost more than order.

// choose picks the ring whose head goes out next among rings whose heads
// are filled (fill was called on each ring without one). When it cannot
// tell yet, it returns in wait (appended to wait[:0]) the rings to wait
// for: every ring still going when no ring has a packet, otherwise the
// rings whose block in the making may hold an earlier packet. best is nil
// and wait empty when every ring has ended.
func choose(rings []*ringReader, wait []*ringReader) (best *ringReader, _ []*ringReader) {
	wait = wait[:0]
	for _, r := range rings {
		if r.hasHead && (best == nil || r.head.before(best.head.sec, best.head.nsec)) {
			best = r
		}
	}
	if best == nil {
		for _, r := range rings {
			if !r.ended {
				wait = append(wait, r)
			}
		}
		return nil, wait
	}
	if len(rings) == 1 {
		return best, wait
	}
	for _, r := range rings {
		if !r.hasHead && !r.ended && r.holdsEarlier(&best.head) {
			wait = append(wait, r)
		}
	}
	if len(wait) > 0 {
		for _, r := range rings {
			if r.hasHead && r.filling() {
				return best, wait[:0]
			}
		}
	}
	return best, wait
}
