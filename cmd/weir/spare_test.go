package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// spareChildEnv makes the test binary run spareChild instead of the
// tests (see TestMain).
const spareChildEnv = "WEIR_SPARE_THREAD_CHILD"

// spareChild stands in for a capture on one core: the main goroutine
// waits in the network poller while a signal arrives through os/signal.
// It prints the number of threads before and after the signal.
func spareChild(park bool) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGUSR1)
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	go func() {
		<-sigs
		w.Write([]byte{1})
	}()
	time.Sleep(50 * time.Millisecond) // the signal goroutine is asleep
	if park {
		parkSpareThread()
	}
	before := threadCount()
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	r.Read(make([]byte, 1))
	time.Sleep(20 * time.Millisecond)
	fmt.Println(before, threadCount())
}

func threadCount() int {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		panic(err)
	}
	return len(tasks)
}

// runSpareChild returns the threads before and after the signal.
func runSpareChild(t *testing.T, mode string) (before, after int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), spareChildEnv+"="+mode, "GOMAXPROCS=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child (%s): %v", mode, err)
	}
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &before, &after); err != nil {
		t.Fatalf("child (%s) printed %q: %v", mode, out, err)
	}
	return before, after
}

func TestParkSpareThreadServesTheStoppingSignal(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skipf("threads are counted in /proc/self/task: %v", err)
	}
	// Without a parked thread the runtime usually makes one for the
	// signal; if it never did, parkSpareThread would be needless.
	if before, after := runSpareChild(t, "plain"); after <= before {
		t.Logf("without parkSpareThread the signal made no thread either (%d -> %d)", before, after)
	}
	// A loaded machine now and then makes a thread for reasons of its
	// own (a slow system call handed off by sysmon), so two runs in five
	// may; a useless park would make one in most runs.
	const runs, allowed = 5, 2
	grew := 0
	for i := 0; i < runs; i++ {
		if before, after := runSpareChild(t, "park"); after > before {
			grew++
			t.Logf("run %d: with a spare thread parked, the signal made %d new threads (%d -> %d)", i, after-before, before, after)
		}
	}
	if grew > allowed {
		t.Errorf("with a spare thread parked, the signal made a thread in %d of %d runs (at most %d allowed)", grew, runs, allowed)
	}
}
