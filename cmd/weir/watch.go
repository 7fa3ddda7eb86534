package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/weircap/weir/capture"
)

// watchInterval is how often --watch looks at the set files.
const watchInterval = time.Second

// fileState is what --watch compares: a file's size and time.
type fileState struct {
	size int64
	mod  time.Time
}

// watchedFiles are the files whose change reloads the sets: the --set
// files, the rules file and the set files it names.
func (c *command) watchedFiles() []string {
	var files []string
	for _, s := range c.opts.sets {
		files = append(files, s.file)
	}
	if c.rules != nil {
		files = append(files, c.opts.rulesFile)
		for _, s := range c.rules.Sets {
			if s.Source != c.rules.Path {
				files = append(files, s.Source)
			}
		}
	}
	return files
}

func stat(files []string) []fileState {
	out := make([]fileState, len(files))
	for i, f := range files {
		if info, err := os.Stat(f); err == nil {
			out[i] = fileState{info.Size(), info.ModTime()}
		}
	}
	return out
}

// watchSets reloads the sets whenever one of their files changes (a file
// being written is read once it has stayed the same for an interval),
// until done is closed.
func (c *command) watchSets(done <-chan struct{}) {
	files := c.watchedFiles()
	last := stat(files)
	pending := false
	every(watchInterval, done, func() {
		now := stat(files)
		changed := false
		for i := range now {
			changed = changed || now[i] != last[i]
		}
		last = now
		switch {
		case changed:
			pending = true // wait until the writer is done
		case pending:
			pending = false
			c.reloadSets(c.reloadables)
		}
	})
}

// every calls f every interval until done is closed.
func every(interval time.Duration, done <-chan struct{}, f func()) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			f()
		}
	}
}

// printStatsEvery prints the captures' counters, and each rule's, every
// interval until done is closed.
func (c *command) printStatsEvery(interval time.Duration, captures []*liveCapture, out *liveOutput, done <-chan struct{}) {
	every(interval, done, func() {
		var total capture.Stats
		var rules []capture.RuleStats
		for _, l := range captures {
			if st, err := l.src.Stats(); err == nil {
				total.Received += st.Received
				total.Dropped += st.Dropped
			}
			if r, ok := l.src.(interface {
				RuleStats() ([]capture.RuleStats, error)
			}); ok {
				if rs, err := r.RuleStats(); err == nil {
					rules = append(rules, rs...)
				}
			}
		}
		at := time.Now().Format("15:04:05")
		fmt.Fprintf(c.stderr, "%s %d captured, %d received by filter, %d dropped by kernel\n", at, out.captured(), total.Received, total.Dropped)
		for _, s := range rules {
			fmt.Fprintf(c.stderr, "%s ", at)
			c.printRuleStats([]capture.RuleStats{s})
		}
	})
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
