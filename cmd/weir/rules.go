package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/weircap/weir/bpf"
	"github.com/weircap/weir/capture"
	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
	"github.com/weircap/weir/rules"
)

// runRules is --rules: with --check, the file is read and every rule
// compiled for the backend asked for (XDP allows "drop"), and nothing is
// captured.
func (c *command) runRules(ctx context.Context, expr string) int {
	switch {
	case c.opts.rulesFile == "":
		c.errorf("--check checks a rules file: give it with --rules FILE")
		return 1
	case strings.TrimSpace(expr) != "":
		c.errorf("--rules replaces the expression: put %q in a rule's match", expr)
		return 1
	case !c.opts.check && c.opts.readFile != "":
		c.errorf("rules run in the eBPF program of a live capture (--xdp or --tc), not on a file: filter -r with an expression, or check the rules with --check")
		return 1
	case !c.opts.check && c.opts.backend != backendXDP && c.opts.backend != backendTC && c.opts.backend != backendEBPF:
		c.errorf("capturing with rules needs --xdp, --tc or --ebpf: the rules run in their eBPF program")
		return 1
	}
	f, err := c.parseRules()
	if err == nil {
		_, err = f.Compile(c.rulesTarget(filter.Config{LinkType: pcap.LinkTypeEthernet, Snaplen: c.liveSnaplen(), Optimize: !c.opts.noOptimize}))
	}
	if err != nil {
		c.reportRulesError(err)
		return 1
	}
	if !c.opts.check && c.opts.dump > 0 {
		c.rules = f
		return c.dumpRules()
	}
	if !c.opts.check {
		switch {
		case c.opts.backend == backendEBPF:
			c.errorf("warning: with --ebpf the packets do not carry their rule (a socket has no room for it): capture with --xdp or --tc for that")
		case c.opts.writeFile != "" && c.outputFormat() != pcap.FormatPcapng:
			c.errorf("warning: a pcap file has no packet comments: write pcapng (-w FILE.pcapng) to keep each packet's rule")
		}
		c.rules = f
		return c.runLive(ctx, "")
	}
	fmt.Fprintf(c.stdout, "%s: %d rule%s, %d set%s: OK\n", f.Path, len(f.Rules), plural(len(f.Rules)), len(f.Sets), plural(len(f.Sets)))
	return 0
}

// parseRules reads --rules.
func (c *command) parseRules() (*rules.File, error) {
	data, err := os.ReadFile(c.opts.rulesFile)
	if err != nil {
		return nil, err
	}
	return rules.Parse(c.opts.rulesFile, data, os.ReadFile)
}

// rulesTarget is what the rules compile for: the backend asked for (XDP
// allows "drop"), with the --set sets.
func (c *command) rulesTarget(cfg filter.Config) rules.Target {
	return rules.Target{Filter: cfg, XDP: c.opts.backend == backendXDP, Sets: c.sets}
}

// hookRules compiles the rules for a capture's filter configuration.
func (c *command) hookRules(fcfg filter.Config) ([]capture.Rule, map[string]*filter.Set, error) {
	compiled, err := c.rules.Compile(c.rulesTarget(fcfg))
	if err != nil {
		return nil, nil, err
	}
	out := make([]capture.Rule, len(c.rules.Rules))
	for i, r := range c.rules.Rules {
		out[i] = capture.Rule{Name: r.Name, Filter: compiled.Programs[i], Sample: r.Sample, Snaplen: r.Snaplen,
			Action: ruleActions[r.Action], Capture: r.Capture}
		if rt := r.Rate; rt != nil {
			perSecond := max(rt.Packets, rt.Bytes)
			out[i].Rate = bpf.NewRuleRate(perSecond, rt.Burst, rt.Bytes > 0, rt.PerFlow)
		}
	}
	return out, compiled.Sets, nil
}

var ruleActions = map[rules.Action]bpf.RuleAction{
	rules.ActionCapture: bpf.RuleCapture, rules.ActionDrop: bpf.RuleDrop, rules.ActionPass: bpf.RulePass,
}

// printRuleStats prints each rule's counters after tcpdump's lines.
func (c *command) printRuleStats(stats []capture.RuleStats) {
	for _, s := range stats {
		fmt.Fprintf(c.stderr, "rule %q: %d matched, %d sampled out, %d rate-limited, %d captured, %d dropped\n",
			s.Name, s.Matched, s.SampledOut, s.RateLimited, s.Captured, s.Dropped)
	}
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

// dumpRules prints the rules program of --xdp or --tc (-d, -dd, -ddd), for
// an Ethernet interface as the backend's program sees it.
func (c *command) dumpRules() int {
	b := c.opts.backend
	hookRules, _, err := c.hookRules(dumpConfig(b, c.liveSnaplen(), !c.opts.noOptimize))
	if err != nil {
		c.reportRulesError(err)
		return 1
	}
	if b == backendEBPF {
		var specs []bpf.RuleSpec
		for _, r := range hookRules {
			frag, err := bpf.Lower(orAll(r.Filter, c.liveSnaplen()), bpf.TargetSocketFilter)
			if err != nil {
				c.errorf("rule %q: %s", r.Name, err)
				return 1
			}
			specs = append(specs, bpf.RuleSpec{Filter: frag, Sample: r.Sample, Snaplen: r.Snaplen, Action: r.Action, Capture: r.Capture, Rate: r.Rate})
		}
		insns, err := bpf.RulesSocketFilterProgram(c.liveSnaplen(), specs)
		if err != nil {
			c.errorf("%s", err)
			return 1
		}
		return c.printPrograms([]namedProgram{{"socket filter", insns}})
	}
	var programs []namedProgram
	for _, h := range dumpHooks(b, c.opts.direction) {
		spec := bpf.CaptureSpec{Hook: h, Snaplen: c.liveSnaplen()}
		for _, r := range hookRules {
			frag, err := bpf.Lower(orAll(r.Filter, c.liveSnaplen()), h.Target())
			if err != nil {
				c.errorf("rule %q: %s", r.Name, err)
				return 1
			}
			spec.Rules = append(spec.Rules, bpf.RuleSpec{Filter: frag, Sample: r.Sample, Snaplen: r.Snaplen,
				Action: r.Action, Capture: r.Capture, Rate: r.Rate})
		}
		insns, err := bpf.CaptureProgram(spec)
		if err != nil {
			c.errorf("%s", err)
			return 1
		}
		programs = append(programs, namedProgram{h.String(), insns})
	}
	return c.printPrograms(programs)
}

// orAll is p, or for an empty rule a program keeping every packet.
func orAll(p filter.Program, snaplen uint32) filter.Program {
	if len(p) == 0 {
		return filter.Program{{Op: filter.ClassRet | filter.SrcK, K: snaplen}}
	}
	return p
}
