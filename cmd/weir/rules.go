package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
	"github.com/weircap/weir/rules"
)

// runRules is --rules: with --check, the file is read and every rule
// compiled for the backend asked for (XDP allows "drop"), and nothing is
// captured.
func (c *command) runRules(expr string) int {
	switch {
	case c.opts.rulesFile == "":
		c.errorf("--check checks a rules file: give it with --rules FILE")
		return 1
	case strings.TrimSpace(expr) != "":
		c.errorf("--rules replaces the expression: put %q in a rule's match", expr)
		return 1
	}
	compiled, err := c.loadRules()
	if err != nil {
		c.reportRulesError(err)
		return 1
	}
	if !c.opts.check {
		c.errorf("--rules: capturing with a rules file is not supported yet; --check validates one")
		return 1
	}
	f := compiled.File
	fmt.Fprintf(c.stdout, "%s: %d rule%s, %d set%s: OK\n", f.Path, len(f.Rules), plural(len(f.Rules)), len(f.Sets), plural(len(f.Sets)))
	return 0
}

// loadRules reads and compiles --rules for the backend asked for.
func (c *command) loadRules() (*rules.Compiled, error) {
	data, err := os.ReadFile(c.opts.rulesFile)
	if err != nil {
		return nil, err
	}
	f, err := rules.Parse(c.opts.rulesFile, data, os.ReadFile)
	if err != nil {
		return nil, err
	}
	return f.Compile(rules.Target{
		Filter: filter.Config{LinkType: pcap.LinkTypeEthernet, Snaplen: c.liveSnaplen(), Optimize: !c.opts.noOptimize},
		XDP:    c.opts.backend == backendXDP,
		Sets:   c.sets,
	})
}

// reportRulesError prints a rules file's error: file:line:column, and
// the expression with a caret when it is in one.
func (c *command) reportRulesError(err error) {
	var re *rules.Error
	if errors.As(err, &re) {
		fmt.Fprintf(c.stderr, "weir: %s\n", re.Error())
		return
	}
	c.errorf("%s", err)
}
