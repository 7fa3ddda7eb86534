package main

import (
	"runtime/debug"
	"runtime/metrics"
)

// heapAllocsMetric is the runtime's running total of bytes allocated.
const heapAllocsMetric = "/gc/heap/allocs:bytes"

// settleAbove is how much a start-up must have allocated for settleHeap
// to collect: a plain start-up allocates well under 1 MiB, a 200-host
// filter 3 MiB, and the runtime's first collection is due at 4 MiB.
const settleAbove = 1 << 20

// settleHeap collects start-up's garbage before packets are read. A long
// filter's compiler garbage would otherwise be collected on the
// capture's core after "listening on": a collection begun while compiling
// goes on marking and sweeping there, the runtime returns the pages in the
// background, and what is left the exit frees. FreeOSMemory does it all
// now and hands the memory back. It costs milliseconds, so a start-up
// with little garbage skips it. Reports whether it collected.
func settleHeap() bool {
	sample := []metrics.Sample{{Name: heapAllocsMetric}}
	metrics.Read(sample)
	if sample[0].Value.Uint64() < settleAbove {
		return false
	}
	debug.FreeOSMemory()
	return true
}
