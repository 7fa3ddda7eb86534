package main

import "testing"

// TestHangup: SIGHUP stops the run unless a capture registered a reload.
func TestHangup(t *testing.T) {
	stopped, reloaded := 0, 0
	stop := func() { stopped++ }
	hangup(stop)
	if stopped != 1 {
		t.Fatalf("without a reload, SIGHUP stopped %d times", stopped)
	}
	reload := func() { reloaded++ }
	reloader.Store(&reload)
	defer reloader.Store(nil)
	hangup(stop)
	if stopped != 1 || reloaded != 1 {
		t.Errorf("with a reload: %d stops, %d reloads; want 0 more stops and 1 reload", stopped-1, reloaded)
	}
}
