package capture_test

import (
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
)

// Capturing UDP port 53 on eth0 until interrupted: the filter is compiled
// for the live interface (FilterConfig), Stop comes from the signal
// handler, and ReadPacket drains the ring before io.EOF.
func ExampleOpen() {
	fc, err := capture.FilterConfig("eth0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // "eth0: no such interface"
		return
	}
	fc.Snaplen = 262144
	prog, err := filter.Compile("udp port 53", fc)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	src, err := capture.Open(capture.Config{
		Interface:   "eth0",
		Snaplen:     fc.Snaplen,
		Promiscuous: true,
		Filter:      prog,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // a *capture.PermissionError without CAP_NET_RAW
		return
	}
	defer src.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() { <-sig; src.Stop() }()
	for {
		data, info, err := src.ReadPacket()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return
		}
		fmt.Println(info.Timestamp, len(data), info.Length)
	}
	st, _ := src.Stats()
	fmt.Fprintf(os.Stderr, "%d packets received by filter\n%d packets dropped by kernel\n", st.Received, st.Dropped)
}
