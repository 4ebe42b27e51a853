package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"github.com/kratombot/kratombot/metrics"
	"github.com/kratombot/kratombot/redact"
)

// Bot runs the adapter: it registers the commands, then serves interactions
// over the gateway (gateway mode) or through Endpoint (HTTP mode).
type Bot struct {
	Config  Config
	Handler *Handler
	// Commands are registered at start when a token is set (Commands(engine)).
	Commands []*discordgo.ApplicationCommand
	Log      *slog.Logger
	// Redactor learns the token and masks it in discordgo's logs and in
	// errors; nil masks nothing beyond what Log's handler does.
	Redactor *redact.Redactor
	// Client is the HTTP client for Discord's REST API; nil keeps discordgo's.
	// Tests point it at a fake Discord.
	Client *http.Client
	// Connected is called each time the bot has reached Discord: on READY
	// (gateway mode), or once the commands are registered and the
	// interactions endpoint is served (HTTP mode). Nil is fine.
	Connected func()
	// DeferAfter is how long an answer may take before the interaction is
	// deferred (type 5, "thinking") and the answer sent as a follow-up;
	// Discord fails an interaction not answered within 3 s. Default 2 s.
	DeferAfter time.Duration
	// RetryMin and RetryMax bound the wait between attempts to reach
	// Discord at start (default 1 s doubling to 60 s).
	RetryMin, RetryMax time.Duration

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // replies in flight
	seen   recentIDs      // interactions already answered
}

// sendTimeout bounds one reply; Discord forgets an interaction after three
// seconds anyway.
const sendTimeout = 10 * time.Second

func (b *Bot) log() *slog.Logger {
	if b.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return b.Log
}

func (b *Bot) redact(err error) error {
	if b.Redactor == nil {
		return err
	}
	return b.Redactor.Error(err)
}

// Run registers the commands (with a token, on shard 0), then in gateway
// mode holds the gateway connection until ctx ends, closes it and waits for
// replies in flight. In HTTP mode it only waits: the endpoint is served by
// the caller's HTTP server, which drains it. A network error at start is
// retried with backoff until ctx ends; only a refused token (401) ends Run
// with an error.
func (b *Bot) Run(ctx context.Context) error {
	log := b.log()
	if b.Config.Token == "" {
		if !b.Config.HTTPMode() {
			return errors.New("discord is not configured: set DISCORD_BOT_TOKEN or DISCORD_PUBLIC_KEY")
		}
		log.Warn("discord: DISCORD_BOT_TOKEN is not set, so the slash commands are not registered from here; register them once with a token")
		b.connected()
		<-ctx.Done()
		return nil
	}
	if b.Redactor != nil {
		b.Redactor.Add(b.Config.Token, "Bot "+b.Config.Token)
	}
	installLogger(log, b.Redactor)
	s, err := discordgo.New("Bot " + b.Config.Token)
	if err != nil {
		return b.redact(fmt.Errorf("setting up the Discord session failed: %w", err))
	}
	s.LogLevel = discordgo.LogWarning // LogDebug would log the token
	s.Debug = false
	if b.Client != nil {
		s.Client = b.Client
	}
	if b.Config.ShardID == 0 {
		if err := b.retry(ctx, func() error { return b.register(ctx, s) }); err != nil {
			return b.redact(err)
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	if b.Config.HTTPMode() {
		log.Info("discord: answering interactions at /discord/interactions")
		b.connected()
		<-ctx.Done()
		return nil
	}
	return b.gateway(ctx, s)
}

func (b *Bot) connected() {
	if b.Connected != nil {
		b.Connected()
	}
}

// errRefused marks Discord refusing the bot token: retrying cannot help.
type errRefused struct{ err error }

func (e errRefused) Error() string {
	return "Discord refused DISCORD_BOT_TOKEN (401 Unauthorized / authentication failed); check the token in the Developer Portal: " + e.err.Error()
}
func (e errRefused) Unwrap() error { return e.err }

// refused says whether err is Discord turning the token down: a 401 from
// the REST API, or the gateway closing with 4004 Authentication failed.
func refused(err error) bool {
	if errors.Is(err, discordgo.ErrUnauthorized) {
		return true
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == http.StatusUnauthorized {
		return true
	}
	var ce *websocket.CloseError
	return errors.As(err, &ce) && ce.Code == 4004
}

// retry runs f until it works, the token is refused (an error), or ctx
// ends (nil). Failures are logged with the wait before the next attempt,
// which doubles up to RetryMax, so a long outage logs about once a minute.
func (b *Bot) retry(ctx context.Context, f func() error) error {
	wait, most := b.RetryMin, b.RetryMax
	if wait <= 0 {
		wait = time.Second
	}
	if most < wait {
		most = max(60*time.Second, wait)
	}
	for {
		err := f()
		if err == nil {
			return nil
		}
		if refused(err) {
			return errRefused{err}
		}
		if ctx.Err() != nil {
			return nil
		}
		b.log().Warn("discord: cannot reach Discord; retrying (the other platforms keep answering)", "err", b.redact(err), "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(wait*2, most)
	}
}

// register replaces the commands with one bulk overwrite, globally or in
// DISCORD_GUILD_ID.
func (b *Bot) register(ctx context.Context, s *discordgo.Session) error {
	app := b.Config.AppID
	if app == "" {
		ep := discordgo.EndpointOAuth2Application("@me")
		body, err := s.RequestWithBucketID("GET", ep, nil, ep, discordgo.WithContext(ctx))
		var a discordgo.Application
		if err == nil {
			err = json.Unmarshal(body, &a)
		}
		if err == nil && a.ID == "" {
			err = errors.New("no application id in the answer")
		}
		if err != nil {
			return fmt.Errorf("asking Discord for the application id failed (set DISCORD_APP_ID, and check DISCORD_BOT_TOKEN): %w", err)
		}
		app = a.ID
	}
	cmds, err := s.ApplicationCommandBulkOverwrite(app, b.Config.GuildID, b.Commands, discordgo.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("registering the slash commands with Discord failed (check DISCORD_BOT_TOKEN, DISCORD_APP_ID and DISCORD_GUILD_ID): %w", err)
	}
	where := "globally (they can take up to an hour to show)"
	if b.Config.GuildID != "" {
		where = "in server " + b.Config.GuildID
	}
	b.log().Info("discord: slash commands registered", "count", len(cmds), "where", where)
	return nil
}

func (b *Bot) gateway(ctx context.Context, s *discordgo.Session) error {
	log := b.log()
	s.Identify.Intents = discordgo.IntentsNone // interactions need no intents
	s.StateEnabled = false
	s.ShardID, s.ShardCount = b.Config.ShardID, b.Config.ShardCount
	s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		if ic == nil || ic.Interaction == nil || !b.begin() {
			return
		}
		defer b.wg.Done()
		if !b.seen.first(ic.ID, time.Now()) {
			log.Debug("discord: an interaction already answered came again; not answering twice")
			return
		}
		b.handle(s.Client, ic.Interaction)
	})
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		log.Info("discord: connected to the gateway", "shard", b.Config.ShardID, "shards", b.Config.ShardCount)
		b.connected()
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) {
		log.Info("discord: gateway connection resumed")
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.RateLimit) {
		metrics.NoteRateLimited(log, Platform)
	})
	err := b.retry(ctx, func() error {
		if err := s.Open(); err != nil {
			_ = s.Close() // Open can fail with the connection half made
			return fmt.Errorf("connecting to the Discord gateway failed (check DISCORD_BOT_TOKEN and the shard settings): %w", err)
		}
		return nil
	})
	if err != nil {
		return b.redact(err)
	}
	if ctx.Err() != nil {
		return nil
	}
	<-ctx.Done()
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	if err := s.Close(); err != nil {
		log.Warn("discord: closing the gateway connection failed", "err", err)
	}
	b.wg.Wait()
	log.Info("discord: gateway closed")
	return nil
}

// begin counts a reply in flight, or refuses once stopping has begun.
func (b *Bot) begin() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.wg.Add(1)
	return true
}

// handle answers one gateway interaction with a callback, deferred when
// the answer takes longer than DeferAfter.
func (b *Bot) handle(client *http.Client, i *discordgo.Interaction) {
	start := time.Now()
	metrics.Updates.WithLabelValues(Platform).Inc()
	// Not the run's context: a reply in flight at shutdown still goes out.
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	resp, sent, deferred := b.respond(ctx, i, func(d *discordgo.InteractionResponse) error {
		return b.callback(ctx, client, i, d)
	})
	if resp == nil {
		return
	}
	var err error
	if deferred {
		err = b.followUp(ctx, client, i, resp)
	} else {
		err = b.callback(ctx, client, i, resp)
	}
	if err != nil {
		b.sendFailed(err)
		return
	}
	metrics.SendLatency.WithLabelValues(Platform).Observe(time.Since(start).Seconds())
	sent(ctx)
}

// sendFailed counts a reply that could not be sent and logs why; 429s are
// only summarised (metrics.NoteRateLimited), so a storm is one line a minute.
func (b *Bot) sendFailed(err error) {
	metrics.SendErrors.WithLabelValues(Platform).Inc()
	if errors.Is(err, errRateLimited) {
		return
	}
	b.log().Warn("discord: could not send a reply", "err", err)
}

// respond runs the handler; when the answer is not ready within
// DeferAfter, deferNow is given the deferred response to send at once, and
// deferred is true: the answer must then go out as a follow-up. Autocomplete
// and PING cannot be deferred and are waited for.
func (b *Bot) respond(ctx context.Context, i *discordgo.Interaction, deferNow func(*discordgo.InteractionResponse) error) (resp *discordgo.InteractionResponse, sent func(context.Context), deferred bool) {
	if i.Type == discordgo.InteractionPing || i.Type == discordgo.InteractionApplicationCommandAutocomplete {
		resp, sent = b.Handler.Respond(ctx, i)
		return resp, sent, false
	}
	type result struct {
		resp *discordgo.InteractionResponse
		sent func(context.Context)
	}
	done := make(chan result, 1)
	go func() {
		r, s := b.Handler.Respond(ctx, i)
		done <- result{r, s}
	}()
	after := b.DeferAfter
	if after <= 0 {
		after = 2 * time.Second
	}
	timer := time.NewTimer(after)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.resp, r.sent, false
	case <-timer.C:
	}
	if err := deferNow(b.Handler.deferral(i)); err != nil {
		b.sendFailed(err)
		return nil, nil, false
	}
	r := <-done
	return r.resp, r.sent, true
}

// followUp replaces the deferred response with the answer: PATCH
// /webhooks/{application_id}/{token}/messages/@original, which works while
// the interaction's token lives (15 minutes). Errors never hold the URL.
func (b *Bot) followUp(ctx context.Context, client *http.Client, i *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	app := i.AppID
	if app == "" {
		app = b.Config.AppID
	}
	edit := discordgo.WebhookEdit{}
	if d := resp.Data; d != nil {
		edit.Content = &d.Content
		edit.Embeds = &d.Embeds
		edit.Components = &d.Components
		edit.AllowedMentions = d.AllowedMentions
	}
	body, err := json.Marshal(edit)
	if err != nil {
		return fmt.Errorf("preparing the follow-up failed: %w", err)
	}
	ep := discordgo.EndpointWebhookMessage(url.PathEscape(app), url.PathEscape(i.Token), "@original")
	return b.post(ctx, client, http.MethodPatch, ep, body, "the follow-up")
}

// callback posts the interaction response. It does not go through
// discordgo's REST client, whose rate limiter keeps a bucket per interaction
// token forever; callbacks need no bot token either. Errors never hold the
// URL, which carries the interaction's token.
func (b *Bot) callback(ctx context.Context, client *http.Client, i *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	body, err := encode(resp)
	if err != nil {
		return fmt.Errorf("preparing the reply failed: %w", err)
	}
	ep := discordgo.EndpointInteractionResponse(url.PathEscape(i.ID), url.PathEscape(i.Token))
	return b.post(ctx, client, http.MethodPost, ep, body, "the reply")
}

// errRateLimited marks a send that Discord refused with 429 after one retry.
var errRateLimited = errors.New("rate limited by Discord (429)")

// post sends body to an interaction endpoint, retrying one 429 that asks
// for at most 2 s.
func (b *Bot) post(ctx context.Context, client *http.Client, method, ep string, body []byte, what string) error {
	if client == nil {
		client = http.DefaultClient
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, ep, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("preparing %s request failed", what)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "DiscordBot (https://github.com/kratombot/kratombot, 1)")
		res, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fmt.Errorf("sending %s to Discord failed: %w", what, err)
		}
		data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode < 300 {
			return nil
		}
		if res.StatusCode == http.StatusTooManyRequests {
			metrics.NoteRateLimited(b.log(), Platform)
			if wait := retryAfter(res.Header, data); attempt == 0 && wait <= 2*time.Second {
				select {
				case <-time.After(wait):
					continue
				case <-ctx.Done():
					return fmt.Errorf("sending %s to Discord failed: %w", what, ctx.Err())
				}
			}
			return fmt.Errorf("%s was refused: %w", what, errRateLimited)
		}
		return fmt.Errorf("%s was refused by Discord: %s%s", what, res.Status, apiMessage(data))
	}
}

// retryAfter reads how long Discord asks us to wait after a 429.
func retryAfter(h http.Header, body []byte) time.Duration {
	var v struct {
		RetryAfter float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &v) == nil && v.RetryAfter > 0 {
		return time.Duration(v.RetryAfter * float64(time.Second))
	}
	if s, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return time.Second
}

// apiMessage is Discord's error code and message, never the rest of the
// body, which could echo what we sent.
func apiMessage(body []byte) string {
	var v struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil || (v.Code == 0 && v.Message == "") {
		return ""
	}
	return fmt.Sprintf(" (code %d: %s)", v.Code, truncate(v.Message, 200))
}

// discordgo logs through one package-level function; it reads the current
// logger so that it is installed once and never raced.
var (
	logOnce  sync.Once
	dgLogger atomic.Pointer[loggerRef]
)

type loggerRef struct {
	log *slog.Logger
	red *redact.Redactor
}

func installLogger(log *slog.Logger, red *redact.Redactor) {
	dgLogger.Store(&loggerRef{log: log, red: red})
	logOnce.Do(func() { discordgo.Logger = logDiscordgo })
}

// logDiscordgo routes discordgo's log lines into slog, tokens masked, and
// without the payloads of gateway events it did not understand (they could
// hold what people wrote).
func logDiscordgo(level, _ int, format string, a ...any) {
	ref := dgLogger.Load()
	if ref == nil {
		return
	}
	l := slog.LevelDebug
	switch level {
	case discordgo.LogError:
		l = slog.LevelError
	case discordgo.LogWarning:
		l = slog.LevelWarn
	case discordgo.LogInformational:
		l = slog.LevelInfo
	}
	var msg string
	if strings.Contains(format, "Data: %s") || strings.Contains(format, "%#v") {
		msg = "a gateway event was not understood (its contents are not logged)"
	} else {
		msg = strings.TrimSpace(fmt.Sprintf(format, a...))
	}
	if ref.red != nil {
		msg = ref.red.String(msg)
	}
	ref.log.Log(context.Background(), l, "discordgo: "+msg)
}
