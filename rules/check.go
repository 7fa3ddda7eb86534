package rules

import (
	"errors"
	"fmt"
	"maps"

	"github.com/weircap/weir/filter"
)

// Target is what the rules will run on.
type Target struct {
	// Filter is how to compile the expressions (link type, snap length,
	// optimizer); Compile sets its Sets and SetLookups.
	Filter filter.Config
	// XDP is true when the rules run at XDP, the one place "drop" can
	// drop a packet on the wire.
	XDP bool
	// Sets are sets given beside the file (--set), which its expressions
	// may use too.
	Sets map[string]*filter.Set
}

// Compiled is a rules file ready for the eBPF backends: each rule's
// program, with the sets their lookups name.
type Compiled struct {
	File     *File
	Programs []filter.Program // Programs[i] is Rules[i]'s match
	Sets     map[string]*filter.Set
}

// Compile checks every rule against t and compiles its expression (sets
// looked up in kernel maps). Errors are *Error, placed at the rule.
func (f *File) Compile(t Target) (*Compiled, error) {
	sets := maps.Clone(f.Sets)
	if sets == nil {
		sets = map[string]*filter.Set{}
	}
	for name, s := range t.Sets {
		if _, dup := sets[name]; dup {
			return nil, &Error{File: f.Path, Position: f.SetPos[name], Msg: fmt.Sprintf("set %q is defined here and by --set %s=%s", name, name, s.Source)}
		}
		sets[name] = s
	}
	cfg := t.Filter
	cfg.Sets, cfg.SetLookups = sets, true
	c := &Compiled{File: f, Sets: sets}
	for i := range f.Rules {
		r := &f.Rules[i]
		if r.Action == ActionDrop && !t.XDP {
			return nil, &Error{File: f.Path, Position: r.Pos, Msg: fmt.Sprintf("rule %q drops packets, which only XDP can: capture with --xdp", r.Name)}
		}
		prog, err := filter.Compile(r.Match, cfg)
		if err != nil {
			return nil, r.expressionError(f.Path, err)
		}
		c.Programs = append(c.Programs, prog)
	}
	return c, nil
}

// expressionError places a compile error of the rule's expression.
func (r *Rule) expressionError(path string, err error) error {
	var fe *filter.Error
	if !errors.As(err, &fe) {
		return &Error{File: path, Position: r.MatchPos, Msg: fmt.Sprintf("rule %q: %v", r.Name, err)}
	}
	at := r.MatchPos
	if r.MatchPlain {
		at.Column += fe.Pos
	}
	return &Error{File: path, Position: at, Msg: fmt.Sprintf("rule %q: %s", r.Name, fe.Msg), Caret: fe.Caret()}
}
