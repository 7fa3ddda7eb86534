//go:build !linux

package capture

import (
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// HookSource is an eBPF capture; only Linux has one.
type HookSource struct{}

// OpenHook returns ErrNotSupported.
func OpenHook(cfg HookConfig) (*HookSource, error) { return nil, ErrNotSupported }

// ReadPacket returns ErrNotSupported.
func (s *HookSource) ReadPacket() ([]byte, pcap.CaptureInfo, error) {
	return nil, pcap.CaptureInfo{}, ErrNotSupported
}

// ReadPacketInfo returns ErrNotSupported.
func (s *HookSource) ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error) {
	return nil, ErrNotSupported
}

// LinkType returns 0.
func (s *HookSource) LinkType() pcap.LinkType { return 0 }

// Snaplen returns 0.
func (s *HookSource) Snaplen() uint32 { return 0 }

// Stats returns ErrNotSupported.
func (s *HookSource) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

// Stop does nothing.
func (s *HookSource) Stop() {}

// Close does nothing.
func (s *HookSource) Close() error { return nil }

// OnWait does nothing.
func (s *HookSource) OnWait(f func()) {}

// RuleStats returns ErrNotSupported.
func (s *HookSource) RuleStats() ([]RuleStats, error) { return nil, ErrNotSupported }

// UpdateSets returns ErrNotSupported.
func (s *HookSource) UpdateSets(sets map[string]*filter.Set) error { return ErrNotSupported }
