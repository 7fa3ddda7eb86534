package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// TestSecondSignalKills: the first SIGINT asks a run to stop; one blocked
// reading a pipe that never ends stays blocked, and the second SIGINT
// kills it as the default action would.
func TestSecondSignalKills(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stdin, hold, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close() // open until the end: the read never sees EOF
	cmd := exec.Command(exe, "-r", "-")
	cmd.Env = append(os.Environ(), asWeirEnv+"=1")
	cmd.Stdin = stdin
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-done
		}
	})
	time.Sleep(time.Second) // weir is reading the pipe, its signals registered
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("the first SIGINT ended the run (%v): it was not handled", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("after the second SIGINT: %v", err)
		}
		ws := exit.Sys().(syscall.WaitStatus)
		if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
			t.Errorf("after the second SIGINT: %v, want killed by SIGINT", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second SIGINT did not end the run")
	}
}
