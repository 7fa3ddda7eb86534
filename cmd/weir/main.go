package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := context.WithCancel(context.Background())
	go handleSignals(stop)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, hostSystem{})
	os.Exit(code)
}

// handleSignals stops the run at SIGINT or SIGTERM, and at SIGHUP unless
// a capture with sets in kernel maps reloads them (hangup). A second
// stopping signal kills the process as the default action would, so a
// run stuck in a blocking read of standard input still ends. One
// registration for all three: each change of the signals the runtime
// watches costs thread switches on the capture's core.
func handleSignals(stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	stopping := false
	for sig := range sigs {
		switch {
		case stopping:
			signal.Reset(sig)
			_ = syscall.Kill(os.Getpid(), sig.(syscall.Signal))
		case sig == syscall.SIGHUP:
			hangup(func() { stopping = true; stop() })
		default:
			stopping = true
			stop()
		}
	}
}

// run is the whole command; it returns the exit status. Cancelling ctx
// stops packet processing; the output is still flushed and left valid.
// sys is the machine live capture runs on.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, sys liveSystem) int {
	opts, err := parseOptions(args)
	if err != nil {
		var usage *usageError
		if errors.As(err, &usage) {
			fmt.Fprintf(stderr, "weir: %s\n", usage.msg)
			printUsage(stderr)
		} else {
			fmt.Fprintf(stderr, "weir: %s\n", err)
		}
		return 1
	}
	switch {
	case opts.help:
		printUsage(stdout)
		return 0
	case opts.version:
		printVersion(stdout)
		return 0
	}
	cmd := &command{opts: opts, stdin: stdin, stdout: stdout, stderr: stderr, system: sys}
	return cmd.run(ctx)
}

func printUsage(w io.Writer) {
	printVersion(w)
	io.WriteString(w, usageText)
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "weir version %s\n%s %s/%s\n", weirVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// describe renders err for a message that already names the file, the way
// C's strerror does ("No such file or directory") when an errno is inside.
func describe(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			return strings.ToUpper(msg[:1]) + msg[1:]
		}
	}
	return err.Error()
}
