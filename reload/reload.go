// Package reload keeps a running engine's knowledge in step with the YAML
// folder on disk: on a change to the folder (or on Reload, called on SIGHUP)
// it parses, validates and indexes the files, then swaps the new knowledge
// in at once.
//
// It must never swap in knowledge that failed to load or validate, or whose
// crisis examples do not all reach the crisis line: a broken edit is logged
// as file:line:col problems and the bot keeps answering from the last good
// version. It never stops answers while reloading.
package reload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/kratombot/kratombot/knowledge"
	"github.com/kratombot/kratombot/metrics"
)

// Engine is the part of bots.Engine a reload needs.
type Engine interface {
	Swap(b *knowledge.Base) error
	Version() string
}

// Reloader reloads one knowledge folder into one engine. Reloads are one at
// a time, so a SIGHUP and a file change never swap out of order.
type Reloader struct {
	dir    string
	engine Engine
	log    *slog.Logger

	// Debounce is how long the folder must be quiet before a reload:
	// editors save through temporary files and renames (default 200ms).
	Debounce time.Duration
	// OnResult, if set, is called after each reload attempt with the
	// version in use afterwards and the error, if the edit was rejected.
	OnResult func(version string, err error)

	mu sync.Mutex
}

// New returns a Reloader for the knowledge folder dir.
func New(dir string, e Engine, log *slog.Logger) *Reloader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reloader{dir: dir, engine: e, log: log, Debounce: 200 * time.Millisecond}
}

// Reload loads the folder and swaps it in when it is valid and differs from
// what is in use. On failure it logs each problem and returns an error that
// wraps knowledge.Problems; the engine keeps the old knowledge.
func (r *Reloader) Reload(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("reloading the knowledge stopped: %w", err)
	}
	old := r.engine.Version()
	err := r.reload(ctx, old)
	if err != nil {
		metrics.Reloads.WithLabelValues("error").Inc()
	}
	if r.OnResult != nil {
		r.OnResult(r.engine.Version(), err)
	}
	return err
}

func (r *Reloader) reload(ctx context.Context, old string) error {
	b, ps := knowledge.Check(os.DirFS(r.dir), r.dir)
	if ps.Errors() > 0 || b == nil {
		for _, p := range ps {
			if !p.Warning {
				r.log.Error("knowledge edit rejected: "+p.String(), "file", p.Pos.File, "line", p.Pos.Line)
			}
		}
		r.log.Error("knowledge not reloaded; still answering from the last good version",
			"dir", r.dir, "problems", ps.Errors(), "version", old)
		return fmt.Errorf("the knowledge in %s was not reloaded; fix these and save again:\n%w", r.dir, ps)
	}
	if b.Version == old {
		r.log.Debug("knowledge unchanged", "dir", r.dir, "version", old)
		return nil
	}
	misses, err := CrisisCheck(ctx, b)
	if err != nil {
		r.log.Error("knowledge not reloaded; still answering from the last good version", "dir", r.dir, "err", err, "version", old)
		return fmt.Errorf("the knowledge in %s was not reloaded: %w", r.dir, err)
	}
	if len(misses) > 0 {
		for _, p := range misses {
			r.log.Error("knowledge edit rejected: "+p.String(), "file", p.Pos.File, "line", p.Pos.Line)
		}
		r.log.Error("knowledge not reloaded: crisis examples would not reach the crisis line; still answering from the last good version",
			"dir", r.dir, "problems", len(misses), "version", old)
		return fmt.Errorf("the knowledge in %s was not reloaded, because crisis examples would get ordinary answers; fix these and save again:\n%w", r.dir, misses)
	}
	if err := r.engine.Swap(b); err != nil {
		r.log.Error("knowledge not reloaded; still answering from the last good version", "dir", r.dir, "err", err, "version", old)
		return fmt.Errorf("the knowledge in %s was not reloaded: %w", r.dir, err)
	}
	for _, w := range b.Warnings {
		r.log.Warn("knowledge: " + w.String())
	}
	metrics.SetKnowledge(b.Version)
	metrics.Reloads.WithLabelValues("ok").Inc()
	r.log.Info("knowledge reloaded", "dir", r.dir, "from", old, "to", b.Version,
		"topics", len(b.Topics), "warnings", len(b.Warnings))
	return nil
}

// Watch watches the folder and reloads after each burst of changes to its
// YAML files. It returns once the watch is in place; the channel closes
// when ctx has ended and the watcher has stopped.
func (r *Reloader) Watch(ctx context.Context) (<-chan struct{}, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("cannot watch the knowledge folder for changes: %w", err)
	}
	if err := w.Add(r.dir); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot watch the knowledge folder %s for changes: %w", r.dir, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer w.Close()
		r.loop(ctx, w)
	}()
	return done, nil
}

func (r *Reloader) loop(ctx context.Context, w *fsnotify.Watcher) {
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	// While the folder itself is gone (moved, or replaced by a deploy), try
	// to watch it again every few seconds.
	var retry <-chan time.Time
	var retryTicker *time.Ticker
	defer func() {
		if retryTicker != nil {
			retryTicker.Stop()
		}
	}()
	self := filepath.Clean(r.dir)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Clean(ev.Name) == self && ev.Has(fsnotify.Remove|fsnotify.Rename) {
				r.log.Warn("the knowledge folder was moved or removed; still answering from the last good version", "dir", r.dir)
				if retryTicker == nil {
					retryTicker = time.NewTicker(2 * time.Second)
					retry = retryTicker.C
				}
				continue
			}
			if relevant(ev) {
				debounce.Reset(r.Debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			r.log.Warn("watching the knowledge folder", "dir", r.dir, "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				debounce.Reset(r.Debounce) // events were lost: reload to be sure
			}
		case <-retry:
			if err := w.Add(r.dir); err == nil {
				retryTicker.Stop()
				retryTicker, retry = nil, nil
				r.log.Info("watching the knowledge folder again", "dir", r.dir)
				debounce.Reset(r.Debounce)
			}
		case <-debounce.C:
			// errors are logged inside; the loop goes on watching
			_ = r.Reload(ctx)
		}
	}
}

// relevant says whether an event may change the knowledge: a YAML file
// written, created, removed or renamed, or a Kubernetes ConfigMap's "..data"
// link swapped. Editor swap files and chmods are not.
func relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	base := filepath.Base(ev.Name)
	if strings.HasPrefix(base, "..") {
		return true
	}
	if strings.HasPrefix(base, ".") {
		return false
	}
	return strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")
}
