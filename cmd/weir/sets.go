package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/weircap/weir/filter"
)

// setOption is one --set NAME=FILE.
type setOption struct{ name, file string }

// addSet records --set NAME=FILE; the file is read when the command runs.
func (o *options) addSet(arg string) error {
	name, file, ok := strings.Cut(arg, "=")
	if !ok || file == "" {
		return fmt.Errorf("invalid set %q: write --set NAME=FILE", arg)
	}
	if !filter.ValidSetName(name) {
		return fmt.Errorf("invalid set name %q: letters, digits, '.', '-' and '_', starting with a letter or digit", name)
	}
	for _, s := range o.sets {
		if s.name == name {
			return fmt.Errorf("set @%s is given twice (%s and %s)", name, s.file, file)
		}
	}
	o.sets = append(o.sets, setOption{name, file})
	return nil
}

// loadSets reads the --set files; nil when there are none.
func (o *options) loadSets() (map[string]*filter.Set, error) {
	if len(o.sets) == 0 {
		return nil, nil
	}
	sets := make(map[string]*filter.Set, len(o.sets))
	for _, so := range o.sets {
		f, err := os.Open(so.file)
		if err != nil {
			return nil, fmt.Errorf("set @%s: %w", so.name, err)
		}
		set, err := filter.ParseSet(so.name, so.file, f)
		f.Close()
		if err != nil {
			return nil, err
		}
		sets[so.name] = set
	}
	return sets, nil
}
