package main

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

func readMetric(name string) uint64 {
	sample := []metrics.Sample{{Name: name}}
	metrics.Read(sample)
	return sample[0].Value.Uint64()
}

func TestSettleHeapCollectsAndReturnsTheGarbage(t *testing.T) {
	// 4 MiB of garbage, in pieces the size of a compiler's tables.
	var garbage [][]byte
	for i := 0; i < 64; i++ {
		garbage = append(garbage, make([]byte, 64<<10))
	}
	runtime.KeepAlive(garbage)
	garbage = nil

	forced := readMetric("/gc/cycles/forced:gc-cycles")
	if !settleHeap() {
		t.Fatalf("settleHeap did not collect after %d bytes were allocated", readMetric(heapAllocsMetric))
	}
	if got := readMetric("/gc/cycles/forced:gc-cycles"); got != forced+1 {
		t.Errorf("forced collections went from %d to %d, want one more", forced, got)
	}
	// Free pages the runtime still holds; FreeOSMemory hands them back.
	if free := readMetric("/memory/classes/heap/free:bytes"); free > 1<<20 {
		t.Errorf("%d bytes of free heap kept after settling, want under 1 MiB", free)
	}
}
