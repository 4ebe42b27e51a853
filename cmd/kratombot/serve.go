package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/metrics"
	"github.com/kratombot/kratombot/redact"
)

// deps is what every platform adapter gets from serve.
type deps struct {
	engine   *bots.Engine
	log      *slog.Logger
	redactor *redact.Redactor // add each token with redactor.Add before using it
	mux      *http.ServeMux   // served on KRATOMBOT_HTTP_ADDR
	recorder bots.Recorder
	regions  bots.RegionStore
	feedback bool   // show "Was this helpful?" buttons (a store is configured)
	region   string // default region code
	logText  bool   // KRATOMBOT_LOG_TEXT=true: log message text, for debugging only
	// connected is called by an adapter each time it has reached its
	// platform (Telegram: a getUpdates or setWebhook answered; Discord:
	// READY or the interactions endpoint registered). /readyz waits until
	// every configured platform has connected once. Never nil once serve
	// has built deps.
	connected func(platform string)
}

// runner runs a platform until ctx ends, then finishes replies in flight and
// returns nil on a clean stop.
type runner func(ctx context.Context) error

// platform starts one adapter; it returns a nil runner when the platform is
// not configured. Adapters append themselves in init.
type platform func(d *deps) (name string, run runner, err error)

var platforms []platform

// cmdServe runs every configured platform adapter until SIGINT or SIGTERM.
func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	var k knowledgeFlags
	k.register(fs)
	var of opsFlags // ops.go
	of.register(fs)
	addr := fs.String("http-addr", os.Getenv("KRATOMBOT_HTTP_ADDR"), "address for webhooks, health and metrics, e.g. :8080")
	logFormat := fs.String("log-format", envOr("KRATOMBOT_LOG_FORMAT", "text"), "log format: text or json")
	logText := fs.Bool("log-text", os.Getenv("KRATOMBOT_LOG_TEXT") == "true", "log what people write (debugging only; off by default for privacy)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	red := redact.New()
	var h slog.Handler
	if *logFormat == "json" {
		h = slog.NewJSONHandler(stderr, nil)
	} else {
		h = slog.NewTextHandler(stderr, nil)
	}
	log := slog.New(red.Handler(h))

	e, err := k.engine()
	if err != nil {
		return err
	}
	region := k.region
	if region != "" {
		if code, ok := e.Region(region); ok {
			region = code
		} else {
			return fmt.Errorf("region %q is not in the knowledge base; use one of the codes in referrals.yaml", region)
		}
	}
	d := &deps{
		engine: e, log: log, redactor: red, mux: http.NewServeMux(),
		recorder: bots.Recorders{metrics.Recorder{}}, regions: &bots.MemoryRegions{},
		region: region, logText: *logText,
		connected: func(string) {},
	}
	// ops.go: health, readiness and metrics routes, the opt-in feedback store
	// and live reload. Before the platforms start: they copy d's fields.
	o, err := setupOps(ctx, d, k.dir, of)
	if err != nil {
		return err
	}
	defer o.close()

	// Webhook and interactions modes are useless without a listener; say so
	// at start rather than wait for updates that can never arrive.
	if *addr == "" {
		for _, v := range []string{"TELEGRAM_WEBHOOK_URL", "DISCORD_PUBLIC_KEY"} {
			if os.Getenv(v) != "" {
				return fmt.Errorf("%s is set, so the bot must receive requests over HTTP: set KRATOMBOT_HTTP_ADDR (e.g. :8080) or --http-addr", v)
			}
		}
	}

	var names []string
	var runs []runner
	for _, p := range platforms {
		name, run, err := p(d)
		if err != nil {
			return red.Error(err)
		}
		if run != nil {
			names = append(names, name)
			runs = append(runs, run)
		}
	}
	if len(runs) == 0 {
		return errors.New("no platform is configured: set TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN or DISCORD_PUBLIC_KEY (see README.md)")
	}
	o.expect(names) // ops.go: /readyz waits until each has connected once
	log.Info("kratombot serving", "platforms", strings.Join(names, ","), "knowledge", e.Version(), "version", version)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(runs))
	httpErr := make(chan error, 2)
	var servers []*http.Server
	serve := func(addr string, h http.Handler, what string) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("cannot listen on %s for %s: %w", addr, what, err)
		}
		srv := newHTTPServer(h)
		servers = append(servers, srv)
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				httpErr <- fmt.Errorf("the HTTP server for %s stopped: %w", what, err)
			}
		}()
		log.Info("http listening", "addr", ln.Addr().String(), "for", what)
		return nil
	}
	if *addr != "" {
		if err := serve(*addr, d.mux, "webhooks and health checks"); err != nil {
			return err
		}
	}
	if o.private != nil {
		if err := serve(o.privateAddr, o.private, "metrics and health checks"); err != nil {
			return err
		}
	}
	for i, run := range runs {
		go func(name string, run runner) {
			err := run(ctx)
			if err != nil {
				err = fmt.Errorf("%s: %w", name, red.Error(err))
			}
			errs <- err
		}(names[i], run)
	}
	o.started(ctx) // ops.go: /readyz says ready until ctx ends

	var first error
	pending := len(runs)
	for pending > 0 {
		var err error
		select {
		case err = <-httpErr: // webhooks can no longer arrive: stop the platforms too
			first = err
			cancel()
			continue
		case err = <-errs:
		}
		pending--
		if err != nil && first == nil {
			first = err
			cancel() // one platform failing stops the others cleanly
		}
	}
	for _, srv := range servers {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.Shutdown(sctx); err != nil {
			log.Warn("http server did not drain in time", "err", err)
		}
		scancel()
	}
	if first != nil {
		return first
	}
	log.Info("kratombot stopped cleanly")
	return nil
}

// HTTP limits. A slow or idle client cannot hold a connection for long, and
// no request is bigger than Telegram's updates and Discord's interactions
// need. Variables so that tests can shorten them.
var (
	httpReadHeaderTimeout = 10 * time.Second
	httpReadTimeout       = 30 * time.Second
	// Discord's deferred answers are written within 2 s; 30 s is generous.
	httpWriteTimeout = 30 * time.Second
	httpIdleTimeout  = 60 * time.Second
)

const (
	// MaxRequestBody bounds every request body: a Telegram update or a
	// Discord interaction is a few KiB.
	MaxRequestBody = 1 << 20
	// maxHeaderBytes bounds a request's headers.
	maxHeaderBytes = 16 << 10
)

// newHTTPServer is the bot's HTTP server with its limits.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           limitBody(h, MaxRequestBody),
		ReadHeaderTimeout: httpReadHeaderTimeout,
		ReadTimeout:       httpReadTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// limitBody answers 413 to a request that says its body is over n bytes and
// caps the body of any other at n (http.MaxBytesReader): a handler whose
// read fails with *http.MaxBytesError should answer 413 too.
func limitBody(h http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > n {
			w.Header().Set("Connection", "close")
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, n)
		h.ServeHTTP(w, r)
	})
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
