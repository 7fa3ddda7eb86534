package main

import (
	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// liveSource is what the capture loop needs of a live capture;
// *capture.Source has it.
type liveSource interface {
	ReadPacket() ([]byte, pcap.CaptureInfo, error)
	LinkType() pcap.LinkType
	Snaplen() uint32
	Stats() (capture.Stats, error)
	Stop()
	Close() error
}

// liveSystem is the machine's side of live capture: sockets, interfaces and
// the process's credentials. Tests replace it to check the command's logic
// without privileges.
type liveSystem interface {
	Open(cfg capture.Config) (liveSource, error)
	// OpenHook opens an XDP or tcx capture.
	OpenHook(cfg capture.HookConfig) (liveSource, error)
	// FilterConfig is how to compile a filter for the interface's socket:
	// its link type and live rules.
	FilterConfig(iface string) (filter.Config, error)
	// HookFilterConfig is how to compile a filter for an XDP or tcx
	// program on the interface: what the program sees of the packet.
	HookFilterConfig(iface string, h capture.Hook) (filter.Config, error)
	Interfaces() ([]capture.Interface, error)
	DefaultInterface() (string, error)
	// DropPrivileges makes the process run as the named user (-Z).
	DropPrivileges(user string) error
}

// hostSystem is the real machine.
type hostSystem struct{}

func (hostSystem) Open(cfg capture.Config) (liveSource, error) {
	src, err := capture.Open(cfg)
	if err != nil {
		return nil, err
	}
	return src, nil
}

func (hostSystem) OpenHook(cfg capture.HookConfig) (liveSource, error) {
	src, err := capture.OpenHook(cfg)
	if err != nil {
		return nil, err
	}
	return src, nil
}

func (hostSystem) HookFilterConfig(iface string, h capture.Hook) (filter.Config, error) {
	return capture.HookFilterConfig(iface, h)
}

func (hostSystem) FilterConfig(iface string) (filter.Config, error) {
	return capture.FilterConfig(iface)
}

func (hostSystem) Interfaces() ([]capture.Interface, error) { return capture.Interfaces() }

func (hostSystem) DefaultInterface() (string, error) { return capture.DefaultInterface() }

func (hostSystem) DropPrivileges(user string) error { return dropPrivileges(user) }
