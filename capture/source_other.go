//go:build !linux

package capture

import (
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

// Source is a live capture; only Linux has one.
type Source struct{}

// Open returns ErrNotSupported.
func Open(cfg Config) (*Source, error) { return nil, ErrNotSupported }

// ReadPacket returns ErrNotSupported.
func (s *Source) ReadPacket() ([]byte, pcap.CaptureInfo, error) {
	return nil, pcap.CaptureInfo{}, ErrNotSupported
}

// ReadPacketInfo returns ErrNotSupported.
func (s *Source) ReadPacketInfo(ci *pcap.CaptureInfo) ([]byte, error) { return nil, ErrNotSupported }

// FilterRefused returns nil.
func (s *Source) FilterRefused() error { return nil }

// LinkType returns 0.
func (s *Source) LinkType() pcap.LinkType { return 0 }

// Snaplen returns 0.
func (s *Source) Snaplen() uint32 { return 0 }

// Stats returns ErrNotSupported.
func (s *Source) Stats() (Stats, error) { return Stats{}, ErrNotSupported }

// OnWait does nothing.
func (s *Source) OnWait(f func()) {}

// Stop does nothing.
func (s *Source) Stop() {}

// Close does nothing.
func (s *Source) Close() error { return nil }

// Interfaces returns ErrNotSupported.
func Interfaces() ([]Interface, error) { return nil, ErrNotSupported }

// DefaultInterface returns ErrNotSupported.
func DefaultInterface() (string, error) { return "", ErrNotSupported }

// FilterConfig returns ErrNotSupported.
func FilterConfig(iface string) (filter.Config, error) { return filter.Config{}, ErrNotSupported }

// UpdateSets returns ErrNotSupported.
func (s *Source) UpdateSets(sets map[string]*filter.Set) error { return ErrNotSupported }

// RuleStats returns ErrNotSupported.
func (s *Source) RuleStats() ([]RuleStats, error) { return nil, ErrNotSupported }

// WriteReady writes nothing.
func (s *Source) WriteReady(w *pcap.Writer, max int) (n int, readErr, writeErr error) {
	return 0, nil, nil
}
