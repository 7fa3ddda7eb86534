package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/weircap/weir/filter"
	"github.com/weircap/weir/pcap"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("optbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "../shared/corpus/expressions.tsv", "expression table")
	linkType := fs.String("linktype", "EN10MB", "link type of the rows to compare")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	lt, ok := pcap.LinkTypeByName(*linkType)
	if !ok {
		fmt.Fprintf(stderr, "optbench: unknown link type %q\n", *linkType)
		return 2
	}
	f, err := os.Open(*corpus)
	if err != nil {
		fmt.Fprintf(stderr, "optbench: %v\n", err)
		return 1
	}
	defer f.Close()
	rows, err := readRows(f, *linkType)
	if err != nil {
		fmt.Fprintf(stderr, "optbench: %s: %v\n", *corpus, err)
		return 1
	}
	report(stdout, compare(rows, lt))
	return 0
}

// row is one accepted expression of the table.
type row struct {
	expr    string
	family  string
	libpcap int // instructions of tcpdump -d
}

// readRows reads the rows of one link type that libpcap accepts.
func readRows(r io.Reader, linkType string) ([]row, error) {
	var rows []row
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 1 && len(cols) > 0 && cols[0] == "expr" {
			continue // header
		}
		if len(cols) < 6 {
			return nil, fmt.Errorf("line %d: %d columns, want 6", line, len(cols))
		}
		if cols[1] != linkType || cols[2] != "yes" {
			continue
		}
		n, err := strconv.Atoi(cols[3])
		if err != nil {
			return nil, fmt.Errorf("line %d: instruction count %q", line, cols[3])
		}
		rows = append(rows, row{expr: cols[0], family: cols[5], libpcap: n})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errors.New("no accepted rows for that link type")
	}
	return rows, nil
}

// family is the comparison for one expression family.
type family struct {
	name               string
	programs           int
	unsupported        int
	weir, libpcap      int
	shorter, longer    int
	longest            float64 // the highest per-program ratio
	longestExpr        string
	failures, longList []string
}

func compare(rows []row, lt pcap.LinkType) []*family {
	byName := map[string]*family{}
	var out []*family
	for _, r := range rows {
		fam := byName[r.family]
		if fam == nil {
			fam = &family{name: r.family}
			byName[r.family] = fam
			out = append(out, fam)
		}
		prog, err := filter.Compile(r.expr, filter.Config{LinkType: lt, Optimize: true})
		if err != nil {
			if strings.Contains(err.Error(), "not supported") {
				fam.unsupported++
			} else {
				fam.failures = append(fam.failures, fmt.Sprintf("%q: %v", r.expr, err))
			}
			continue
		}
		fam.programs++
		fam.weir += len(prog)
		fam.libpcap += r.libpcap
		ratio := float64(len(prog)) / float64(r.libpcap)
		switch {
		case len(prog) < r.libpcap:
			fam.shorter++
		case len(prog) > r.libpcap:
			fam.longer++
			fam.longList = append(fam.longList, fmt.Sprintf("%q: weir %d, libpcap %d", r.expr, len(prog), r.libpcap))
		}
		if ratio > fam.longest || fam.longestExpr == "" {
			fam.longest, fam.longestExpr = ratio, r.expr
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func report(w io.Writer, fams []*family) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "family\tprograms\tweir\tlibpcap\tratio\tshorter\tlonger\tworst\tunsupported\t")
	var total family
	for _, f := range fams {
		if f.programs == 0 {
			fmt.Fprintf(tw, "%s\t0\t-\t-\t-\t-\t-\t-\t%d\t\n", f.name, f.unsupported)
		} else {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%d\t%d\t%.3f\t%d\t\n", f.name, f.programs, f.weir, f.libpcap,
				ratio(f.weir, f.libpcap), f.shorter, f.longer, f.longest, f.unsupported)
		}
		total.programs += f.programs
		total.weir += f.weir
		total.libpcap += f.libpcap
		total.shorter += f.shorter
		total.longer += f.longer
		total.unsupported += f.unsupported
		total.longest = max(total.longest, f.longest)
	}
	fmt.Fprintf(tw, "TOTAL\t%d\t%d\t%d\t%.3f\t%d\t%d\t%.3f\t%d\t\n", total.programs, total.weir, total.libpcap,
		ratio(total.weir, total.libpcap), total.shorter, total.longer, total.longest, total.unsupported)
	tw.Flush()
	for _, f := range fams {
		for _, l := range f.longList {
			fmt.Fprintf(w, "longer than libpcap [%s] %s\n", f.name, l)
		}
		for _, l := range f.failures {
			fmt.Fprintf(w, "libpcap accepts, weir fails [%s] %s\n", f.name, l)
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
