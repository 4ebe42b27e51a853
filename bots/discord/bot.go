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

	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup // replies in flight
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
// the caller's HTTP server, which drains it.
func (b *Bot) Run(ctx context.Context) error {
	log := b.log()
	if b.Config.Token == "" {
		if !b.Config.HTTPMode() {
			return errors.New("discord is not configured: set DISCORD_BOT_TOKEN or DISCORD_PUBLIC_KEY")
		}
		log.Warn("discord: DISCORD_BOT_TOKEN is not set, so the slash commands are not registered from here; register them once with a token")
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
		if err := b.register(ctx, s); err != nil {
			return b.redact(err)
		}
	}
	if b.Config.HTTPMode() {
		log.Info("discord: answering interactions at /discord/interactions")
		<-ctx.Done()
		return nil
	}
	return b.gateway(ctx, s)
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
		b.handle(s.Client, ic.Interaction)
	})
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		log.Info("discord: connected to the gateway", "shard", b.Config.ShardID, "shards", b.Config.ShardCount)
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) {
		log.Info("discord: gateway connection resumed")
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.RateLimit) {
		metrics.RateLimited.WithLabelValues(Platform).Inc()
	})
	if err := s.Open(); err != nil {
		return b.redact(fmt.Errorf("connecting to the Discord gateway failed (check DISCORD_BOT_TOKEN and the shard settings): %w", err))
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

// handle answers one gateway interaction with a callback.
func (b *Bot) handle(client *http.Client, i *discordgo.Interaction) {
	start := time.Now()
	metrics.Updates.WithLabelValues(Platform).Inc()
	// Not the run's context: a reply in flight at shutdown still goes out.
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	resp, sent := b.Handler.Respond(ctx, i)
	if resp == nil {
		return
	}
	if err := callback(ctx, client, i, resp); err != nil {
		metrics.SendErrors.WithLabelValues(Platform).Inc()
		b.log().Warn("discord: could not send a reply", "err", err)
		return
	}
	metrics.SendLatency.WithLabelValues(Platform).Observe(time.Since(start).Seconds())
	sent(ctx)
}

// callback posts the interaction response. It does not go through
// discordgo's REST client, whose rate limiter keeps a bucket per interaction
// token forever; callbacks need no bot token either. Errors never hold the
// URL, which carries the interaction's token.
func callback(ctx context.Context, client *http.Client, i *discordgo.Interaction, resp *discordgo.InteractionResponse) error {
	body, err := encode(resp)
	if err != nil {
		return fmt.Errorf("preparing the reply failed: %w", err)
	}
	ep := discordgo.EndpointInteractionResponse(url.PathEscape(i.ID), url.PathEscape(i.Token))
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep, bytes.NewReader(body))
		if err != nil {
			return errors.New("preparing the reply request failed")
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "DiscordBot (https://github.com/kratombot/kratombot, 1)")
		res, err := client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return fmt.Errorf("sending the reply to Discord failed: %w", err)
		}
		data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode < 300 {
			return nil
		}
		if res.StatusCode == http.StatusTooManyRequests {
			metrics.RateLimited.WithLabelValues(Platform).Inc()
			if wait := retryAfter(res.Header, data); attempt == 0 && wait <= 2*time.Second {
				select {
				case <-time.After(wait):
					continue
				case <-ctx.Done():
					return fmt.Errorf("sending the reply to Discord failed: %w", ctx.Err())
				}
			}
		}
		return fmt.Errorf("the reply was refused by Discord: %s%s", res.Status, apiMessage(data))
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
