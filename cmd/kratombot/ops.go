package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
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
	// storeKey (KRATOMBOT_STORE_KEY) and storeKeyFile
	// (KRATOMBOT_STORE_KEY_FILE) are the secret chat ids are hashed under;
	// environment only, never a flag, so the key is not in ps output.
	storeKey, storeKeyFile string
	// metricsAddr (KRATOMBOT_METRICS_ADDR) serves /metrics, /healthz and
	// /readyz on a private address; /metrics then leaves the public one.
	metricsAddr string
}

func (o *opsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.store, "store", os.Getenv("KRATOMBOT_STORE"),
		"opt-in feedback store: a file path (SQLite) or postgres://... ; empty keeps nothing")
	fs.StringVar(&o.metricsAddr, "metrics-addr", os.Getenv("KRATOMBOT_METRICS_ADDR"),
		"private address for /metrics, /healthz and /readyz, e.g. 127.0.0.1:9090 (default: on --http-addr)")
	o.storeKey = os.Getenv("KRATOMBOT_STORE_KEY")
	o.storeKeyFile = os.Getenv("KRATOMBOT_STORE_KEY_FILE")
}

// ops is what serve runs beside the platforms: health and metrics routes,
// the feedback store, live reload of the knowledge and SIGHUP.
type ops struct {
	d     *deps
	ready atomic.Bool // serving and not shutting down
	store *feedback.Store
	// private serves health and metrics on KRATOMBOT_METRICS_ADDR; nil
	// means they are on d.mux.
	private     *http.ServeMux
	privateAddr string

	mu       sync.Mutex
	expected []string        // the configured platforms
	reached  map[string]bool // platforms that have connected once
	reload   *reload.Reloader
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	hup      chan os.Signal
	closing  sync.Once
}

// setupOps prepares d before the platforms start: it must run first, because
// the adapters copy the recorder, the region store and the feedback switch.
// dir is the knowledge folder ("" = built in, which is never watched).
func setupOps(ctx context.Context, d *deps, dir string, f opsFlags) (*ops, error) {
	octx, cancel := context.WithCancel(ctx)
	o := &ops{d: d, cancel: cancel}
	metrics.SetKnowledge(d.engine.Version())

	o.reached = map[string]bool{}
	d.connected = o.connect
	health := d.mux
	if f.metricsAddr != "" {
		o.private, o.privateAddr = http.NewServeMux(), f.metricsAddr
		o.private.Handle("GET /metrics", metrics.Handler())
		o.private.HandleFunc("GET /healthz", o.healthz)
		o.private.HandleFunc("GET /readyz", o.readyz)
	} else {
		d.mux.Handle("GET /metrics", metrics.Handler())
	}
	// health stays on the public address too: load balancers ask there
	health.HandleFunc("GET /healthz", o.healthz)
	health.HandleFunc("GET /readyz", o.readyz)

	if f.store != "" {
		d.redactor.Add(feedback.Secrets(f.store)...)
		opt := feedback.Options{
			Log: d.log,
			// forged button data: only the knowledge's topics are counted
			KnownTopic: func(id string) bool { _, ok := d.engine.Base().Topic(id); return ok },
			KnownWord:  d.engine.KnownWords(),
		}
		switch {
		case f.storeKey != "":
			key, err := feedback.KeyFor(f.storeKey)
			if err != nil {
				cancel()
				return nil, err
			}
			d.redactor.Add(string(key))
			opt.Key = key
		case f.storeKeyFile != "":
			opt.KeyFile = f.storeKeyFile
		default:
			opt.KeyFile = feedback.DefaultKeyFile(f.store)
			if opt.KeyFile == "" {
				cancel()
				return nil, errors.New("KRATOMBOT_STORE_KEY is required with a PostgreSQL store: every replica must hash chat ids under the same secret, kept outside the database; make one with `openssl rand -hex 32` (or set KRATOMBOT_STORE_KEY_FILE)")
			}
		}
		// Start never waits on the database: an outage at start is a
		// warning, and the store is reached in the background.
		st, err := feedback.Start(octx, f.store, opt)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("cannot use the feedback store (KRATOMBOT_STORE): %w", d.redactor.Error(err))
		}
		o.store = st
		watchStore(st)
		d.recorder = bots.Recorders{d.recorder, st}
		d.regions = st
		d.feedback = true
		d.engine.SetFeedbackStore(true) // /privacy must then say what is kept
		d.log.Info("feedback store on: counting topics, helpful votes and scrubbed unanswered questions", "backend", st.Backend())
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

func (o *ops) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// readyz is 200 once every configured platform has connected once, and
// until shutdown begins. A store that is down does not make the bot unready
// (it answers without it); the body says so.
func (o *ops) readyz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !o.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready")
		return
	}
	if waiting := o.waiting(); len(waiting) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: waiting for", strings.Join(waiting, ", "), "to connect")
		return
	}
	msg := "ready, knowledge " + o.d.engine.Version()
	if o.store != nil && !o.store.Up() {
		msg += "; store unavailable (answering without it)"
	}
	fmt.Fprintln(w, msg)
}

// expect names the configured platforms, which must each connect once
// before /readyz says ready.
func (o *ops) expect(names []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.expected = append([]string(nil), names...)
}

// connect is deps.connected: a platform has reached its servers.
func (o *ops) connect(platform string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reached[platform] = true
}

// waiting lists the configured platforms not yet connected.
func (o *ops) waiting() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, p := range o.expected {
		if !o.reached[p] {
			out = append(out, p)
		}
	}
	return out
}

// started marks the bot ready once the platforms run (and have connected,
// see expect); it is not ready again once ctx ends (shutting down).
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
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "kratombot_store_up",
				Help: "1 when the feedback store is reachable and writable, 0 while the bot answers without it.",
			}, func() float64 {
				if s := currentStore.Load(); s != nil && s.Up() {
					return 1
				}
				return 0
			}),
		)
	})
}
