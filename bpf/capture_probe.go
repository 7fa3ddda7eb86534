package bpf

import (
	"errors"
	"fmt"
)

// ErrMissingFeature is wrapped by the errors of the feature probes.
var ErrMissingFeature = errors.New("kernel feature missing")

// MissingFeatureError names a kernel feature a capture needs and the
// first Linux version that has it.
type MissingFeatureError struct {
	Feature   string // "BPF ring buffer maps"
	MinKernel string // "5.8"
	Err       error  // the probe's answer
}

func (e *MissingFeatureError) Error() string {
	return fmt.Sprintf("bpf: this kernel lacks %s (Linux %s or later): %v", e.Feature, e.MinKernel, e.Err)
}

// Unwrap lets errors.Is match ErrMissingFeature and the probe's error.
func (e *MissingFeatureError) Unwrap() []error { return []error{ErrMissingFeature, e.Err} }

// kernelVersion is a Linux release's major and minor numbers.
type kernelVersion struct{ major, minor int }

func (v kernelVersion) atLeast(o kernelVersion) bool {
	return v.major > o.major || v.major == o.major && v.minor >= o.minor
}

func (v kernelVersion) String() string { return fmt.Sprintf("%d.%d", v.major, v.minor) }

// parseKernelRelease reads the version of a uname release such as
// "6.18.0-1-amd64".
func parseKernelRelease(release string) (kernelVersion, error) {
	var v kernelVersion
	if _, err := fmt.Sscanf(release, "%d.%d", &v.major, &v.minor); err != nil {
		return v, fmt.Errorf("bpf: kernel release %q: %w", release, err)
	}
	return v, nil
}

// Features the programs use that no cheap probe shows: links for XDP
// programs, tcx.
var (
	xdpLinkVersion = kernelVersion{5, 9}
	tcxVersion     = kernelVersion{6, 6}
)
