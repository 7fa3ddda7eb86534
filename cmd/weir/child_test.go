package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer written by a child process's pipe copier
// and read by the test at the same time.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// weirChild is weir running as a child process: this test binary run
// again with asWeirEnv set, after an optional command prefix such as
// "ip netns exec NAME" (which execs, so the child keeps its process ID).
type weirChild struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *syncBuffer // nil when the test reads the stdout pipe itself
	stderr syncBuffer
	done   chan struct{}
	code   int
}

// startWeir starts weir with args. With stdoutPipe set, the returned
// reader is the child's standard output, for the test to read as it goes.
func startWeir(t testing.TB, prefix []string, stdoutPipe bool, args ...string) (*weirChild, io.Reader) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append(append([]string{}, prefix...), exe), args...)
	c := &weirChild{t: t, done: make(chan struct{}), code: -1}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Env = append(os.Environ(), asWeirEnv+"=1")
	c.cmd.Stderr = &c.stderr
	var out io.Reader
	var childEnd *os.File
	if stdoutPipe {
		// A pipe of our own: Cmd.StdoutPipe's is closed by Wait, which
		// may run before the test has read everything.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		c.cmd.Stdout, out, childEnd = w, r, w
	} else {
		c.stdout = &syncBuffer{}
		c.cmd.Stdout = c.stdout
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting weir: %v", err)
	}
	if childEnd != nil {
		childEnd.Close() // the reader sees the end when the child exits
	}
	go func() {
		err := c.cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
			c.code = 0
		case errors.As(err, &exit):
			c.code = exit.ExitCode()
		}
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c, out
}

// waitStderr waits until the child's standard error holds s, failing the
// test when the child exits or the time is up first.
func (c *weirChild) waitStderr(s string, timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(c.stderr.String(), s) {
		select {
		case <-c.done:
			c.t.Fatalf("weir exited (status %d) before printing %q; stderr:\n%s", c.code, s, c.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("weir did not print %q in %v; stderr:\n%s", s, timeout, c.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (c *weirChild) signal(sig os.Signal) {
	c.t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait returns the exit status, failing the test if the child does not
// exit in time.
func (c *weirChild) wait(timeout time.Duration) int {
	c.t.Helper()
	select {
	case <-c.done:
		return c.code
	case <-time.After(timeout):
		c.t.Fatalf("weir did not exit in %v; stderr:\n%s", timeout, c.stderr.String())
		return -1
	}
}
