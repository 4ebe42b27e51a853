package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/feedback"
	"github.com/kratombot/kratombot/metrics"
	"github.com/kratombot/kratombot/reload"
	"github.com/prometheus/client_golang/prometheus"
)

// opsFlags are serve's operator settings beyond the platforms.
type opsFlags struct {
	store string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.store, "store", os.Getenv("KRATOMBOT_STORE"),
		"opt-in feedback store: a file path (SQLite) or postgres://... ; empty keeps nothing")
}

// ops is what serve runs beside the platforms: health and metrics routes,
// the feedback store, live reload of the knowledge and SIGHUP.
type ops struct {
	d       *deps
	ready   atomic.Bool
	store   *feedback.Store
	reload  *reload.Reloader
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	hup     chan os.Signal
	closing sync.Once
}

// setupOps prepares d before the platforms start: it must run first, because
// the adapters copy the recorder, the region store and the feedback switch.
// dir is the knowledge folder ("" = built in, which is never watched).
func setupOps(ctx context.Context, d *deps, dir string, f opsFlags) (*ops, error) {
	octx, cancel := context.WithCancel(ctx)
	o := &ops{d: d, cancel: cancel}
	metrics.SetKnowledge(d.engine.Version())

	d.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	d.mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !o.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready, knowledge", d.engine.Version())
	})
	d.mux.Handle("GET /metrics", metrics.Handler())

	if f.store != "" {
		d.redactor.Add(feedback.Secrets(f.store)...)
		st, err := feedback.Open(octx, f.store, feedback.Options{Log: d.log})
		if err != nil {
			cancel()
			return nil, fmt.Errorf("cannot open the feedback store (KRATOMBOT_STORE): %w", d.redactor.Error(err))
		}
		o.store = st
		watchStore(st)
		d.recorder = bots.Recorders{d.recorder, st}
		d.regions = st
		d.feedback = true
		d.engine.SetFeedbackStore(true) // /privacy must then say what is kept
		d.log.Info("feedback store open: counting topics, helpful votes and scrubbed unanswered questions", "backend", st.Backend())
	}

	if dir != "" {
		o.reload = reload.New(dir, d.engine, d.log)
		done, err := o.reload.Watch(octx)
		if err != nil {
			d.log.Warn("live reload is off; send SIGHUP after editing the knowledge", "err", err)
		} else {
			o.wg.Add(1)
			go func() { defer o.wg.Done(); <-done }()
			d.log.Info("watching the knowledge folder; edits are picked up without a restart", "dir", dir)
		}
	}

	// SIGHUP reloads; it must be caught even with the built-in knowledge,
	// or its default action would end the process.
	o.hup = make(chan os.Signal, 1)
	signal.Notify(o.hup, syscall.SIGHUP)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		for {
			select {
			case <-octx.Done():
				return
			case <-o.hup:
				if o.reload == nil {
					d.log.Info("SIGHUP: the built-in knowledge cannot be reloaded; run serve with --knowledge DIR to edit it live")
					continue
				}
				d.log.Info("SIGHUP: reloading the knowledge", "dir", dir)
				_ = o.reload.Reload(octx) // problems are logged inside
			}
		}
	}()
	return o, nil
}

// started marks the bot ready once the platforms run; it is not ready again
// once ctx ends (shutting down).
func (o *ops) started(ctx context.Context) {
	o.ready.Store(true)
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		<-ctx.Done()
		o.ready.Store(false)
	}()
}

// close stops reloads and writes what the store has queued. Call it after
// the platforms have returned, so that no reply records into a closed store.
func (o *ops) close() {
	o.closing.Do(func() {
		o.ready.Store(false)
		signal.Stop(o.hup)
		o.cancel()
		o.wg.Wait()
		if o.store != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := o.store.Close(ctx); err != nil {
				o.d.log.Warn("feedback store", "err", o.d.redactor.Error(err))
			}
			if n := o.store.Dropped() + o.store.Failed(); n > 0 {
				o.d.log.Warn("feedback store lost some counts while running", "dropped", o.store.Dropped(), "failed", o.store.Failed())
			}
		}
	})
}

// The store's loss counters are exported once; they follow the store that
// serve opened last.
var (
	currentStore  atomic.Pointer[feedback.Store]
	storeCounters sync.Once
)

func watchStore(s *feedback.Store) {
	currentStore.Store(s)
	storeCounters.Do(func() {
		count := func(f func(*feedback.Store) uint64) func() float64 {
			return func() float64 {
				if s := currentStore.Load(); s != nil {
					return float64(f(s))
				}
				return 0
			}
		}
		metrics.Registry.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "kratombot_store_dropped_total",
				Help: "Feedback events dropped because the store could not keep up.",
			}, count((*feedback.Store).Dropped)),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "kratombot_store_failed_total",
				Help: "Feedback events lost because the database refused a write.",
			}, count((*feedback.Store).Failed)),
		)
	})
}
