package main

import "runtime"

// parkSpareThread leaves one idle thread with the runtime for the signal
// that stops a capture. os/signal's goroutine, having passed a signal on,
// goes back to sleep in a way that hands its processor to another
// thread; a capture pinned to one core (GOMAXPROCS 1) usually has none
// idle, so the runtime would create a thread, with fresh stacks, on the
// capture's core while the capture stops. Made now, before "listening
// on", it costs start-up instead.
//
// A goroutine locked to its thread that blocks takes the thread with it,
// so the waiting goroutine resumes on a second one; unlocked, the first
// thread joins the idle ones when the goroutine ends.
func parkSpareThread() {
	locked := make(chan struct{})
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		close(locked)
		<-release
		runtime.UnlockOSThread()
		close(done)
	}()
	<-locked
	close(release)
	<-done
}
