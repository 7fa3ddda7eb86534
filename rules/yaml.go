package rules

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// node is a YAML value with its place: the few shapes a rules file has.
type node struct {
	Kind    nodeKind
	Line    int
	Column  int
	Value   string  // a scalar's text, unquoted
	Quoted  bool    // a scalar written in quotes
	Block   bool    // a scalar written as a block (| or >), over lines
	Content []*node // a mapping's keys and values in turn; a sequence's items
}

type nodeKind int

const (
	scalarNode nodeKind = iota
	mappingNode
	sequenceNode
)

// syntaxError is a YAML syntax error at its line and column.
type syntaxError struct {
	Position
	Msg string
}

func (e *syntaxError) Error() string { return e.Msg }

// parseYAML reads one YAML document into nodes; nil for an empty one.
func parseYAML(data []byte) (*node, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		var se *yaml.SyntaxError
		if errors.As(err, &se) && se.Token != nil {
			return nil, &syntaxError{Position{se.Token.Position.Line, se.Token.Position.Column}, se.Message}
		}
		return nil, &syntaxError{Position{1, 1}, err.Error()}
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, nil
	}
	if len(f.Docs) > 1 {
		return nil, &syntaxError{Position{f.Docs[1].GetToken().Position.Line, 1}, "a rules file is one YAML document"}
	}
	return convert(f.Docs[0].Body)
}

// convert turns goccy/go-yaml's tree into nodes.
func convert(n ast.Node) (*node, error) {
	tok := n.GetToken()
	out := &node{Line: tok.Position.Line, Column: tok.Position.Column}
	switch n := n.(type) {
	case *ast.MappingNode:
		out.Kind = mappingNode
		for _, kv := range n.Values {
			if err := out.addPair(kv); err != nil {
				return nil, err
			}
		}
		if n.IsFlowStyle {
			return out, nil // at its '{'
		}
		out.atFirstKey()
		return out, nil
	case *ast.MappingValueNode:
		out.Kind = mappingNode
		err := out.addPair(n)
		out.atFirstKey()
		return out, err
	case *ast.SequenceNode:
		out.Kind = sequenceNode
		for _, item := range n.Values {
			c, err := convert(item)
			if err != nil {
				return nil, err
			}
			out.Content = append(out.Content, c)
		}
		return out, nil
	case *ast.TagNode:
		return convert(n.Value)
	case *ast.AnchorNode, *ast.AliasNode, *ast.MergeKeyNode:
		return nil, &syntaxError{Position{out.Line, out.Column}, "anchors, aliases and merge keys are not used in rules files"}
	case *ast.LiteralNode:
		out.Value, out.Block = n.Value.Value, true
		return out, nil
	case *ast.StringNode:
		out.Value = n.Value
		out.Quoted = tok.Type == token.SingleQuoteType || tok.Type == token.DoubleQuoteType
		return out, nil
	case *ast.NullNode:
		return out, nil
	case ast.ScalarNode:
		out.Value = tok.Value
		return out, nil
	}
	return nil, &syntaxError{Position{out.Line, out.Column}, fmt.Sprintf("unexpected %s", n.Type())}
}

// atFirstKey places a mapping where its first key is (the parser's
// token for it is the first ':').
func (m *node) atFirstKey() {
	if len(m.Content) > 0 {
		m.Line, m.Column = m.Content[0].Line, m.Content[0].Column
	}
}

// addPair adds a mapping's key and value.
func (m *node) addPair(kv *ast.MappingValueNode) error {
	k, err := convert(kv.Key)
	if err != nil {
		return err
	}
	if k.Kind != scalarNode {
		return &syntaxError{Position{k.Line, k.Column}, "a key must be a single word"}
	}
	var v *node
	if kv.Value == nil {
		v = &node{Line: k.Line, Column: k.Column}
	} else if v, err = convert(kv.Value); err != nil {
		return err
	}
	m.Content = append(m.Content, k, v)
	return nil
}
