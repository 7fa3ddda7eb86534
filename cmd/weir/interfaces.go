package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/weircap/weir/capture"
)

// anyDevice is the pseudo-interface that captures on all of them.
var anyDevice = capture.Interface{
	Name:        "any",
	Description: "Pseudo-device that captures on all interfaces",
	Up:          true,
	Running:     true,
}

// captureDevices returns the interfaces in tcpdump's order for -D and
// for -i N: libpcap's figure of merit (running, then up, then not
// loopback; "any" after the other non-loopback interfaces), the system's
// order among equals. "any" is added when the list lacks it.
func captureDevices(list []capture.Interface) []capture.Interface {
	devices := slices.Clone(list)
	if !slices.ContainsFunc(devices, func(i capture.Interface) bool { return i.Name == anyDevice.Name }) {
		devices = append(devices, anyDevice)
	}
	slices.SortStableFunc(devices, func(a, b capture.Interface) int {
		return cmp.Compare(figureOfMerit(a), figureOfMerit(b))
	})
	return devices
}

// figureOfMerit is lower for interfaces more likely to be useful, as
// libpcap 1.10's get_figure_of_merit.
func figureOfMerit(i capture.Interface) int64 {
	var n int64
	if !i.Running {
		n |= 0x80000000
	}
	if !i.Up {
		n |= 0x40000000
	}
	if connectionStatus(i) == "Disconnected" {
		n |= 0x20000000
	}
	if i.Loopback {
		n |= 0x10000000
	}
	if i.Name == anyDevice.Name {
		n |= 0x08000000
	}
	return n
}

// connectionStatus approximates libpcap's link status from the interface
// flags: a running interface has carrier; loopback and "any" have no
// notion of it.
func connectionStatus(i capture.Interface) string {
	switch {
	case i.Loopback || i.Name == anyDevice.Name:
		return ""
	case i.Running:
		return "Connected"
	case i.Up:
		return "Disconnected"
	}
	return ""
}

// writeDeviceList prints -D's lines: "1.eth0 [Up, Running, Connected]",
// with the description in parentheses when there is one.
func writeDeviceList(w io.Writer, devices []capture.Interface) error {
	var b strings.Builder
	for n, d := range devices {
		fmt.Fprintf(&b, "%d.%s", n+1, d.Name)
		if d.Description != "" {
			fmt.Fprintf(&b, " (%s)", d.Description)
		}
		var flags []string
		for _, f := range []struct {
			set  bool
			word string
		}{{d.Up, "Up"}, {d.Running, "Running"}, {d.Loopback, "Loopback"}} {
			if f.set {
				flags = append(flags, f.word)
			}
		}
		if len(flags) == 0 {
			flags = append(flags, "none")
		}
		if status := connectionStatus(d); status != "" {
			flags = append(flags, status)
		}
		fmt.Fprintf(&b, " [%s]\n", strings.Join(flags, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// resolveDevice turns -i's argument into an interface name: the default
// interface when empty, the Nth of -D's list for a number (as tcpdump),
// otherwise the name as given: opening the capture says when there is no
// such interface, without a dump of every interface at each start.
func resolveDevice(sys liveSystem, name string) (string, error) {
	if name == "" {
		return sys.DefaultInterface()
	}
	n, err := strconv.ParseInt(name, 10, 32)
	if err != nil {
		return name, nil
	}
	list, err := sys.Interfaces()
	if err != nil {
		return "", err
	}
	devices := captureDevices(list)
	if n <= 0 || int(n) > len(devices) {
		return "", errors.New("invalid adapter index")
	}
	return devices[n-1].Name, nil
}
