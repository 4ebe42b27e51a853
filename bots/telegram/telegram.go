// Package telegram is kratombot's Telegram adapter. It turns Bot API updates
// (over long polling or a webhook) into questions for the answer engine, and
// the engine's replies into HTML messages sent within Telegram's limits, one
// chat at a time and in order.
//
// It must never log what people write unless Config.LogText says so, never
// let the bot token reach a log, an error or a panic message, never send a
// reply without its referral, and never answer an update twice or drop one:
// an update is confirmed to Telegram (a later offset in long polling, a 2xx
// answer to the webhook request) only after its reply was sent. It keeps
// nothing on disk. The one exception to "never drop" is a chat that floods:
// past its bound its messages are dropped with one notice, crises never.
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/time/rate"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/redact"
)

// Platform is the name events and metrics carry.
const Platform = "telegram"

// WebhookPath is where Telegram posts updates in webhook mode.
const WebhookPath = "/telegram/webhook"

// SecretHeader carries the webhook's secret token.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

const (
	maxMessage      = 4096 // characters in one message
	maxCallbackData = 64   // bytes of callback data
	maxButtons      = 12
)

// allowedUpdates are the only updates the bot asks for.
var allowedUpdates = []string{"message", "callback_query"}

// Limits are the send limits. The zero value of a field means Telegram's.
type Limits struct {
	Global        float64       // messages a second over all chats (30)
	GlobalBurst   int           // (1)
	ChatInterval  time.Duration // between two messages in one chat (1s)
	ChatBurst     int           // (1)
	GroupInterval time.Duration // between two messages in one group (3s: 20 a minute)
	GroupBurst    int           // (1)
}

// DefaultLimits are Telegram's published limits, sent evenly: a burst
// allowance would let a minute's window hold more than the limit.
func DefaultLimits() Limits {
	return Limits{Global: 30, GlobalBurst: 1, ChatInterval: time.Second, ChatBurst: 1, GroupInterval: 3 * time.Second, GroupBurst: 1}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Global <= 0 {
		l.Global = d.Global
	}
	if l.GlobalBurst <= 0 {
		l.GlobalBurst = d.GlobalBurst
	}
	if l.ChatInterval <= 0 {
		l.ChatInterval = d.ChatInterval
	}
	if l.ChatBurst <= 0 {
		l.ChatBurst = d.ChatBurst
	}
	if l.GroupInterval <= 0 {
		l.GroupInterval = d.GroupInterval
	}
	if l.GroupBurst <= 0 {
		l.GroupBurst = d.GroupBurst
	}
	return l
}

// Config says how to reach Telegram and how to behave. Zero durations mean
// the defaults given.
type Config struct {
	Token string
	// Endpoint is the library's format string for the Bot API address,
	// "http://127.0.0.1:8081/bot%s/%s"; empty means api.telegram.org.
	Endpoint string
	// WebhookURL switches to webhook mode: Telegram posts updates to it, and
	// the bot serves WebhookPath on Deps.Mux.
	WebhookURL string
	// WebhookSecret is checked on every webhook request; empty means a random
	// one registered at each start.
	WebhookSecret string
	// Polling says the operator asked for long polling explicitly
	// (TELEGRAM_MODE=polling): a webhook registered for the bot is then
	// removed. Without it a registered webhook stops the bot with an error,
	// since another deployment may be using it.
	Polling  bool
	Region   string // default region code
	Feedback bool   // offer "Was this helpful?" buttons on topic answers
	LogText  bool   // log what people write: debugging only
	Limits   Limits
	// MaxQueued is how many messages one chat may have waiting behind the
	// one being answered (3); past it the chat gets one notice and its
	// further messages are dropped until it has been answered. Crises are
	// never dropped.
	MaxQueued int

	PollTimeout     time.Duration // long-poll wait (30s); under a second means short polls
	MinBackoff      time.Duration // first wait after an error (1s)
	MaxBackoff      time.Duration // longest wait after errors (1m)
	ShutdownTimeout time.Duration // to finish replies in flight on stop (25s)
	RequestTimeout  time.Duration // for one call other than a long poll (30s)
	SweepInterval   time.Duration // how often idle chats' limiters are dropped (1m)
	// BusyPoll is the shortest gap between two getUpdates calls while
	// updates are being answered (250ms): Telegram then answers at once
	// with the updates not yet confirmed, so asking faster only repeats them.
	BusyPoll time.Duration
	// WebhookWait is how long a webhook request waits for its reply before
	// it is answered 503, so that Telegram sends the update again (45s).
	WebhookWait time.Duration
	HTTPClient  *http.Client
}

// Deps are what the adapter uses from the rest of kratombot.
type Deps struct {
	Engine   *bots.Engine
	Log      *slog.Logger     // nil: discard
	Redactor *redact.Redactor // the token is added to it
	Recorder bots.Recorder    // nil: none
	Regions  bots.RegionStore // nil: in memory
	Mux      *http.ServeMux   // needed in webhook mode
	// Connected is called each time the bot has reached Telegram: a
	// getUpdates or setWebhook answered, a webhook request received.
	Connected func()
}

// Bot is a running Telegram adapter.
type Bot struct {
	cfg       Config
	eng       *bots.Engine
	log       *slog.Logger
	red       *redact.Redactor
	rec       bots.Recorder
	store     bots.RegionStore
	api       *api
	disp      *dispatcher
	track     *tracker
	global    *gate
	recent    *recentIDs
	hooks     *webhooks
	pressed   *pressSet
	slow      *slowLog
	connected func()

	secret  string
	self    tgbotapi.User // set once before any update is handled
	ready   atomic.Bool   // webhook requests are taken
	running atomic.Bool

	// hook runs before each update is handled; tests use it to inject faults.
	hook func(tgbotapi.Update)
}

var secretRe = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// New checks the configuration and prepares the bot without calling
// Telegram; Run connects.
func New(cfg Config, d Deps) (*Bot, error) {
	if d.Engine == nil {
		return nil, errors.New("the Telegram adapter needs an answer engine")
	}
	cfg.Token = strings.TrimSpace(cfg.Token)
	if cfg.Token == "" {
		return nil, errors.New("the Telegram bot token is empty; set TELEGRAM_BOT_TOKEN")
	}
	if d.Redactor == nil {
		d.Redactor = redact.New()
	}
	// the library builds URLs with the token in the path: mask every spelling
	secrets := []string{cfg.Token, url.PathEscape(cfg.Token), url.QueryEscape(cfg.Token)}
	d.Redactor.Add(secrets...)
	libRedactor.Add(secrets...)
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Recorder == nil {
		d.Recorder = bots.Recorders{}
	}
	if d.Regions == nil {
		d.Regions = &bots.MemoryRegions{}
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = tgbotapi.APIEndpoint
	}
	if strings.Count(cfg.Endpoint, "%s") != 2 || strings.Count(cfg.Endpoint, "%") != 2 {
		return nil, fmt.Errorf("the Bot API endpoint %q must be a format string with two %%s, for the token and the method, like http://127.0.0.1:8081/bot%%s/%%s", d.Redactor.String(cfg.Endpoint))
	}
	cfg.Limits = cfg.Limits.withDefaults()
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	switch {
	case cfg.PollTimeout == 0:
		cfg.PollTimeout = 30 * time.Second
	case cfg.PollTimeout < 0:
		cfg.PollTimeout = 0
	}
	def(&cfg.MinBackoff, time.Second)
	def(&cfg.MaxBackoff, time.Minute)
	def(&cfg.ShutdownTimeout, 25*time.Second)
	def(&cfg.RequestTimeout, 30*time.Second)
	def(&cfg.SweepInterval, time.Minute)
	def(&cfg.BusyPoll, 250*time.Millisecond)
	def(&cfg.WebhookWait, 45*time.Second)
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 3
	}
	if d.Connected == nil {
		d.Connected = func() {}
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = cfg.MinBackoff
	}
	if cfg.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 100 // one worker per busy chat sends at once
		cfg.HTTPClient = &http.Client{Transport: t}
	}

	b := &Bot{
		cfg: cfg, eng: d.Engine, log: d.Log.With("platform", Platform), red: d.Redactor,
		rec: d.Recorder, store: d.Regions,
		api:       &api{token: cfg.Token, endpoint: cfg.Endpoint, client: cfg.HTTPClient, red: d.Redactor, timeout: cfg.RequestTimeout},
		track:     newTracker(),
		global:    newGate(rate.Limit(cfg.Limits.Global), cfg.Limits.GlobalBurst),
		recent:    newRecentIDs(4096),
		hooks:     &webhooks{pending: map[int]*pendingHook{}},
		pressed:   newPressSet(1 << 16),
		connected: d.Connected,
	}
	b.slow = &slowLog{log: b.log}
	b.disp = newDispatcher(cfg.MaxQueued, b.newChat, b.handleJob)

	if cfg.WebhookURL != "" && cfg.Polling {
		return nil, errors.New("TELEGRAM_MODE=polling and TELEGRAM_WEBHOOK_URL are both set: choose one")
	}
	if cfg.WebhookURL != "" {
		u, err := url.Parse(cfg.WebhookURL)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("TELEGRAM_WEBHOOK_URL %q is not an absolute http(s) URL", cfg.WebhookURL)
		}
		if d.Mux == nil {
			return nil, errors.New("webhook mode needs the HTTP server (KRATOMBOT_HTTP_ADDR)")
		}
		b.secret = cfg.WebhookSecret
		if b.secret == "" {
			buf := make([]byte, 32)
			if _, err := rand.Read(buf); err != nil {
				return nil, fmt.Errorf("cannot make a webhook secret: %w", err)
			}
			b.secret = hex.EncodeToString(buf)
		} else if !secretRe.MatchString(b.secret) {
			return nil, errors.New("the webhook secret may use only A-Z, a-z, 0-9, _ and -, at most 256 characters")
		}
		d.Redactor.Add(b.secret)
		d.Mux.HandleFunc("POST "+WebhookPath, b.serveWebhook)
	}
	setLibLogger(b.log)
	return b, nil
}

// Run connects to Telegram and answers updates until ctx is done; then it
// stops taking updates, finishes the replies in flight, confirms what was
// answered and returns nil. It returns an error only when this instance
// must not run: Telegram refuses the token or the webhook URL, another
// process polls with the same token (409), or a webhook is registered and
// Config.Polling does not ask to remove it. Network errors are retried.
func (b *Bot) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return errors.New("this Telegram bot is already running")
	}
	me, err := b.connect(ctx)
	if err != nil || me == nil {
		return err
	}
	b.self = *me
	mode := "long polling"
	if b.cfg.WebhookURL != "" {
		mode = "webhook"
	}
	b.log.Info("telegram connected", "bot", "@"+me.UserName, "mode", mode)
	b.setCommands(ctx)

	// Replies get their own context: on stop they may still finish, for
	// ShutdownTimeout, after ctx is done.
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	b.disp.start(work)

	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(b.cfg.SweepInterval)
		defer t.Stop()
		for {
			select {
			case <-sweepCtx.Done():
				return
			case now := <-t.C:
				b.disp.sweep(now)
				b.slow.flush(now)
			}
		}
	}()

	if b.cfg.WebhookURL != "" {
		err = b.runWebhook(ctx)
	} else {
		err = b.poll(ctx)
	}
	b.ready.Store(false)
	b.disp.close()
	if errors.Is(err, errOtherPoller) {
		// The other instance gets every update we have not confirmed:
		// answering them too would answer them twice.
		stopWork()
	}
	if !b.drain(stopWork) {
		if b.cfg.WebhookURL != "" {
			b.log.Warn("replies were still being sent when the shutdown time ran out; their updates were not acknowledged, so Telegram will deliver them again", "timeout", b.cfg.ShutdownTimeout)
		} else {
			b.log.Warn("replies were still being sent when the shutdown time ran out; their updates were not confirmed, so they will be answered after a restart", "timeout", b.cfg.ShutdownTimeout)
		}
	}
	if b.cfg.WebhookURL == "" && err == nil {
		b.confirm()
	}
	b.slow.flush(time.Time{})
	stopSweep()
	wg.Wait()
	if err == nil {
		b.log.Info("telegram stopped")
	}
	return err
}

// drain waits for the replies in flight, for at most ShutdownTimeout, and
// reports whether all finished.
func (b *Bot) drain(stopWork context.CancelFunc) bool {
	done := make(chan struct{})
	go func() {
		b.disp.wait()
		close(done)
	}()
	t := time.NewTimer(b.cfg.ShutdownTimeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		stopWork()
		<-done
		return false
	}
}

// connect calls getMe until it works, ctx ends (nil, nil) or Telegram
// refuses the token.
func (b *Bot) connect(ctx context.Context) (*tgbotapi.User, error) {
	wait := b.cfg.MinBackoff
	for {
		me, err := b.api.getMe(ctx)
		if err == nil {
			return &me, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		if e := apiError(err); e != nil && (e.Code == http.StatusUnauthorized || e.Code == http.StatusNotFound) {
			// only a refused credential stops the bot; anything else may pass
			return nil, fmt.Errorf("Telegram refused the bot token (the Telegram token was refused); check TELEGRAM_BOT_TOKEN: %w", err)
		}
		d := retryWait(err, &wait, b.cfg.MaxBackoff)
		b.log.Warn("cannot reach Telegram yet; retrying", "err", err, "retry_in", d)
		if sleep(ctx, d) != nil {
			return nil, nil
		}
	}
}

// commands is the menu registered with setMyCommands. Telegram shows these
// short descriptions in its command list.
var commands = []tgbotapi.BotCommand{
	{Command: "start", Description: "What this bot is, and the main topics"},
	{Command: "help", Description: "How to use this bot"},
	{Command: "ask", Description: "Ask a question (in groups: /ask your question)"},
	{Command: "symptoms", Description: "Withdrawal symptoms"},
	{Command: "treatment", Description: "Treatment and support"},
	{Command: "faq", Description: "Common questions"},
	{Command: "resources", Description: "Helplines in your region"},
	{Command: "crisis", Description: "Urgent help now"},
	{Command: "region", Description: "Choose your region for helplines"},
	{Command: "privacy", Description: "What happens to what you write"},
}

// setCommands registers the command menu; the bot works without it.
func (b *Bot) setCommands(ctx context.Context) {
	if err := b.api.request(ctx, "register the command menu", tgbotapi.NewSetMyCommands(commands...)); err != nil {
		b.log.Warn("could not register the command menu; commands still work when typed", "err", err)
	}
}

// confirm tells Telegram which updates were answered, so that a restart
// does not answer them again.
func (b *Bot) confirm() {
	off := b.track.offset()
	if off == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.RequestTimeout)
	defer cancel()
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if _, err = b.api.getUpdates(ctx, off, 1, 0); err == nil {
			b.log.Info("telegram confirmed the answered updates", "offset", off)
			return
		}
		if sleep(ctx, b.cfg.MinBackoff) != nil {
			break
		}
	}
	b.log.Warn("could not confirm the answered updates; some may be answered again after a restart", "err", err)
}

// libRedactor masks every token this process uses in the library's own log
// lines; the library has one logger for the whole process.
var (
	libRedactor = redact.New()
	libLog      atomic.Pointer[slog.Logger]
	libLogOnce  sync.Once
)

type libLogger struct{}

func (libLogger) Println(v ...any) { libPrint(strings.TrimSpace(fmt.Sprintln(v...))) }

func (libLogger) Printf(format string, v ...any) {
	libPrint(strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func libPrint(s string) {
	if l := libLog.Load(); l != nil {
		l.Warn(libRedactor.String(s), "source", "telegram-bot-api")
	}
}

func setLibLogger(l *slog.Logger) {
	libLog.Store(l)
	libLogOnce.Do(func() { _ = tgbotapi.SetLogger(libLogger{}) })
}
