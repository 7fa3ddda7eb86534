package rules

import (
	"fmt"

	"github.com/weircap/weir/filter"
)

// File is a parsed rules file.
type File struct {
	Path   string
	Sets   map[string]*filter.Set // the file's own sets
	SetPos map[string]Position    // where each is defined
	Rules  []Rule
}

// Action is what a rule does with the packets it takes.
type Action int

// Actions.
const (
	ActionCapture Action = iota // copy to user space (the default)
	ActionDrop                  // drop on the wire (XDP only), optionally capture too
	ActionPass                  // leave alone: no capture, no further rule
)

var actionNames = [...]string{ActionCapture: "capture", ActionDrop: "drop", ActionPass: "pass"}

func (a Action) String() string { return actionNames[a] }

// Rate is a token bucket: Packets or Bytes per second, with a burst of
// Burst (packets or bytes; a second's worth when 0), for all packets of
// the rule or for each flow apart.
type Rate struct {
	Packets, Bytes uint64
	Burst          uint64
	PerFlow        bool
}

// Rule is one rule of the list.
type Rule struct {
	Name  string
	Match string // the expression; "" takes every packet
	// Sample keeps one packet in Sample (0 or 1: every packet).
	Sample  uint32
	Rate    *Rate
	Snaplen uint32 // bytes kept of each packet; 0: the capture's
	Action  Action
	// Capture, with ActionDrop, also copies the dropped packets.
	Capture bool

	Pos      Position // where the rule begins
	MatchPos Position // where its expression begins
	// MatchPlain is true when the expression is a one-line scalar, so
	// that an offset in it is a column on its line.
	MatchPlain bool
}

// Captures reports whether the rule copies its packets to user space.
func (r *Rule) Captures() bool {
	return r.Action == ActionCapture || r.Action == ActionDrop && r.Capture
}

// Position is a 1-based place in the rules file.
type Position struct{ Line, Column int }

// Error is a problem in a rules file, at a place: printed as
// "file:line:column: message", then the expression and a caret when the
// problem is in one.
type Error struct {
	File string
	Position
	Msg   string
	Caret string // the expression and a caret line, or ""
}

func (e *Error) Error() string {
	s := fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	if e.Caret != "" {
		s += "\n" + e.Caret
	}
	return s
}
