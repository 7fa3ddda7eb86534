package rules

import (
	"math"
	"strconv"
	"strings"

	"github.com/weircap/weir/filter"
)

var ruleKeys = []string{"name", "match", "sample", "rate", "snaplen", "action", "capture"}

// rule reads one rule of the list.
func (p *fileParser) rule(n *node) (Rule, error) {
	r := Rule{Pos: pos(n)}
	var captureNode *node
	err := p.mapping(n, "a rule", ruleKeys, func(key string, k, v *node) error {
		var err error
		switch key {
		case "name":
			r.Name, err = p.scalar(v, "name")
		case "match":
			r.Match, err = p.scalar(v, "match")
			r.MatchPos = pos(v)
			r.MatchPlain = !v.Block
			if v.Quoted {
				r.MatchPos.Column++ // past the quote
			}
		case "sample":
			var n uint64
			n, err = p.count(v, "sample", math.MaxUint32)
			r.Sample = uint32(n)
		case "rate":
			r.Rate, err = p.rate(v)
		case "snaplen":
			var n uint64
			n, err = p.count(v, "snaplen", filter.DefaultSnaplen)
			r.Snaplen = uint32(n)
		case "action":
			r.Action, err = p.action(v)
		case "capture":
			captureNode = v
			r.Capture, err = p.boolean(v, "capture")
		}
		return err
	})
	if err != nil {
		return Rule{}, err
	}
	if r.Name == "" {
		return Rule{}, p.errorf(r.Pos, "a rule without a name: every rule needs \"name:\"")
	}
	if captureNode != nil && r.Action != ActionDrop {
		return Rule{}, p.errorf(pos(captureNode), "rule %q: \"capture\" goes with \"action: drop\" (a capture rule captures; a pass rule never does)", r.Name)
	}
	return r, nil
}

func (p *fileParser) scalar(v *node, what string) (string, error) {
	if v.Kind != scalarNode {
		return "", p.errorf(pos(v), "%s must be a single value", what)
	}
	return v.Value, nil
}

// count reads a whole number from 1 to max.
func (p *fileParser) count(v *node, what string, max uint64) (uint64, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n < 1 || n > max {
		return 0, p.errorf(pos(v), "%s must be a whole number from 1 to %d, not %q", what, max, s)
	}
	return n, nil
}

func (p *fileParser) boolean(v *node, what string) (bool, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "true", "yes":
		return true, nil
	case "false", "no":
		return false, nil
	}
	return false, p.errorf(pos(v), "%s must be true or false, not %q", what, s)
}

func (p *fileParser) action(v *node) (Action, error) {
	s, err := p.scalar(v, "action")
	if err != nil {
		return 0, err
	}
	for a, name := range actionNames {
		if s == name {
			return Action(a), nil
		}
	}
	return 0, p.errorf(pos(v), "unknown action %q (capture, drop or pass)", s)
}

// rate reads "rate:": packets or bytes per second, per (global or flow),
// burst.
func (p *fileParser) rate(v *node) (*Rate, error) {
	r := &Rate{}
	err := p.mapping(v, "a rate", []string{"packets", "bytes", "per", "burst"}, func(key string, k, v *node) error {
		var err error
		switch key {
		case "packets":
			r.Packets, err = p.count(v, "packets", math.MaxUint32)
		case "bytes":
			r.Bytes, err = p.count(v, "bytes", math.MaxUint32)
		case "burst":
			r.Burst, err = p.count(v, "burst", math.MaxUint32)
		case "per":
			var s string
			if s, err = p.scalar(v, "per"); err == nil {
				switch s {
				case "flow":
					r.PerFlow = true
				case "global":
				default:
					err = p.errorf(pos(v), "per must be global or flow, not %q", s)
				}
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if (r.Packets == 0) == (r.Bytes == 0) {
		return nil, p.errorf(pos(v), "a rate gives either packets or bytes per second")
	}
	return r, nil
}
