package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/weircap/weir/filter"
)

// reloader is what SIGHUP does while a capture whose sets live in kernel
// maps runs: read the sets again and update the maps in place. While it
// is nil, SIGHUP stops the capture, as it stops tcpdump.
var reloader atomic.Pointer[func()]

// hangup handles SIGHUP: a reload, or stop.
func hangup(stop func()) {
	if f := reloader.Load(); f != nil {
		(*f)()
		return
	}
	stop()
}

// reloadable is an eBPF capture whose set lookups can be refilled: how its
// programs were compiled, and the programs.
type reloadable struct {
	src interface {
		UpdateSets(map[string]*filter.Set) error
	}
	fcfg     filter.Config
	expr     string
	programs []filter.Program
}

// reloadState guards reloads, one at a time.
var reloadState sync.Mutex

// reloadSets reads the --set files and the rules file's sets again,
// compiles the captures' programs with them and, when the programs are
// the running ones (the sets changed their entries, not what the programs
// look up), updates the kernel maps in place: no program is detached, no
// packet missed. Otherwise the running sets stay, and weir says why.
func (c *command) reloadSets(captures []reloadable) {
	reloadState.Lock()
	defer reloadState.Unlock()
	sets, err := c.opts.loadSets()
	if err != nil {
		c.errorf("sets not reloaded: %s", err)
		return
	}
	all := sets
	type update struct {
		src  reloadable
		sets map[string]*filter.Set
	}
	var updates []update
	for _, r := range captures {
		progs, used, err := c.recompile(r, sets)
		if err != nil {
			c.errorf("sets not reloaded: %s", err)
			return
		}
		if !slices.EqualFunc(progs, r.programs, func(a, b filter.Program) bool { return slices.Equal(a, b) }) {
			what := "the new sets need other lookups than the running program makes (entries of a kind or IP version it does not look up, or none left of one it does)"
			if c.rules != nil {
				what = "the rules file and its sets now compile to other programs than the running ones (a rule changed, or a set's entries need other lookups)"
			}
			c.errorf("sets not reloaded: %s: restart weir to use them", what)
			return
		}
		updates = append(updates, update{r, used})
		all = used
	}
	for _, u := range updates {
		if err := u.src.src.UpdateSets(u.sets); err != nil {
			c.errorf("sets not reloaded: %s", err)
			return
		}
	}
	c.sets = sets
	c.errorf("sets reloaded: %s", describeSets(all))
}

// recompile compiles a capture's expression or rules with sets; used is
// every set the programs may name.
func (c *command) recompile(r reloadable, sets map[string]*filter.Set) ([]filter.Program, map[string]*filter.Set, error) {
	if c.rules == nil {
		cfg := r.fcfg
		cfg.Sets, cfg.SetLookups = sets, true
		prog, err := filter.Compile(r.expr, cfg)
		return []filter.Program{prog}, sets, err
	}
	f, err := c.parseRules()
	if err != nil {
		return nil, nil, err
	}
	target := c.rulesTarget(r.fcfg)
	target.Sets = sets
	compiled, err := f.Compile(target)
	if err != nil {
		return nil, nil, err
	}
	return compiled.Programs, compiled.Sets, nil
}

// describeSets lists sets and their sizes: "@a: 3 entries, @b: 1 entry".
func describeSets(sets map[string]*filter.Set) string {
	names := make([]string, 0, len(sets))
	for name := range sets {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		n := len(sets[name].Entries)
		parts[i] = fmt.Sprintf("@%s: %d entr%s", name, n, map[bool]string{true: "y", false: "ies"}[n == 1])
	}
	return strings.Join(parts, ", ")
}
