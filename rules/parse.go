package rules

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/weircap/weir/filter"
)

// Parse reads a rules file: its YAML, the shape of every rule, and its
// sets (readFile reads set files, named relative to the rules file).
// Expressions are compiled by Check. Errors are *Error, or the
// *filter.SetError of a bad line in a set file.
func Parse(path string, data []byte, readFile func(string) ([]byte, error)) (*File, error) {
	p := &fileParser{path: path, readFile: readFile}
	doc, err := parseYAML(data)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, p.errorf(se.Position, "bad YAML: %s", se.Msg)
		}
		return nil, err
	}
	if doc == nil {
		return nil, p.errorf(Position{1, 1}, "empty rules file: it needs a list of rules")
	}
	f, err := p.file(doc)
	if err != nil {
		return nil, err
	}
	return f, nil
}

type fileParser struct {
	path     string
	readFile func(string) ([]byte, error)
}

func (p *fileParser) errorf(at Position, format string, args ...any) *Error {
	return &Error{File: p.path, Position: at, Msg: fmt.Sprintf(format, args...)}
}

func pos(n *node) Position { return Position{n.Line, n.Column} }

// mapping walks a mapping's keys, refusing those not in known.
func (p *fileParser) mapping(n *node, what string, known []string, each func(key string, k, v *node) error) error {
	if n.Kind != mappingNode {
		return p.errorf(pos(n), "%s must be a mapping (key: value lines)", what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if known != nil && !slices.Contains(known, k.Value) {
			return p.errorf(pos(k), "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
		}
		if seen[k.Value] {
			return p.errorf(pos(k), "%q given twice in %s", k.Value, what)
		}
		seen[k.Value] = true
		if err := each(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *fileParser) file(n *node) (*File, error) {
	f := &File{Path: p.path, Sets: map[string]*filter.Set{}, SetPos: map[string]Position{}}
	var rulesNode *node
	err := p.mapping(n, "the rules file", []string{"sets", "rules"}, func(key string, k, v *node) error {
		if key == "sets" {
			return p.sets(v, f)
		}
		rulesNode = v
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rulesNode == nil || rulesNode.Kind != sequenceNode || len(rulesNode.Content) == 0 {
		at := pos(n)
		if rulesNode != nil {
			at = pos(rulesNode)
		}
		return nil, p.errorf(at, "no rules: the file needs \"rules:\" with a list of rules")
	}
	names := map[string]Position{}
	for _, rn := range rulesNode.Content {
		r, err := p.rule(rn)
		if err != nil {
			return nil, err
		}
		if prev, dup := names[r.Name]; dup {
			return nil, p.errorf(r.Pos, "a second rule named %q (the first is at line %d)", r.Name, prev.Line)
		}
		names[r.Name] = r.Pos
		f.Rules = append(f.Rules, r)
	}
	return f, nil
}

// sets reads "sets:": each a list of entries or the name of a set file.
func (p *fileParser) sets(n *node, f *File) error {
	into := f.Sets
	return p.mapping(n, "sets", nil, func(name string, k, v *node) error {
		f.SetPos[name] = pos(k)
		if !filter.ValidSetName(name) {
			return p.errorf(pos(k), "bad set name %q: letters, digits, '.', '-' and '_', starting with a letter or digit", name)
		}
		switch v.Kind {
		case scalarNode:
			file := v.Value
			if !filepath.IsAbs(file) {
				file = filepath.Join(filepath.Dir(p.path), file)
			}
			data, err := p.readFile(file)
			if err != nil {
				return p.errorf(pos(v), "set %q: %v", name, err)
			}
			s, err := filter.ParseSet(name, file, strings.NewReader(string(data)))
			if err != nil {
				return err
			}
			into[name] = s
		case sequenceNode:
			var entries []filter.SetEntry
			for _, en := range v.Content {
				if en.Kind != scalarNode {
					return p.errorf(pos(en), "set %q: each entry is an address, network, port, port range or MAC address", name)
				}
				e, err := filter.ParseSetEntry(en.Value)
				if err != nil {
					return p.errorf(pos(en), "set %q: %v", name, err)
				}
				e.Line = int32(en.Line)
				entries = append(entries, e)
			}
			s, err := filter.NewSet(name, p.path, entries)
			if err != nil {
				return p.errorf(pos(k), "%v", err)
			}
			into[name] = s
		default:
			return p.errorf(pos(v), "set %q must be a list of entries or the name of a set file", name)
		}
		return nil
	})
}
