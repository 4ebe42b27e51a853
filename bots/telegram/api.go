package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/redact"
)

// api makes Bot API calls through the library with a context: the library's
// requests have none, so each call gets a client that adds it. Every error
// it returns has the token masked.
type api struct {
	token, endpoint string
	client          *http.Client
	red             *redact.Redactor
	timeout         time.Duration
}

type ctxClient struct {
	ctx context.Context
	c   *http.Client
}

func (c ctxClient) Do(r *http.Request) (*http.Response, error) { return c.c.Do(r.WithContext(c.ctx)) }

// bot is a library client bound to ctx; building one makes no call.
func (a *api) bot(ctx context.Context) *tgbotapi.BotAPI {
	b := &tgbotapi.BotAPI{Token: a.token, Client: ctxClient{ctx, a.client}}
	b.SetAPIEndpoint(a.endpoint)
	return b
}

func (a *api) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("could not %s on Telegram: %w", what, a.red.Error(err))
}

func (a *api) getMe(ctx context.Context) (tgbotapi.User, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	me, err := a.bot(ctx).GetMe()
	return me, a.wrap("check the bot token (getMe)", err)
}

// getUpdates asks for updates from offset on, waiting up to timeout seconds
// for one to arrive.
func (a *api) getUpdates(ctx context.Context, offset, limit, timeout int) ([]tgbotapi.Update, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout+time.Duration(timeout)*time.Second)
	defer cancel()
	ups, err := a.bot(ctx).GetUpdates(tgbotapi.UpdateConfig{Offset: offset, Limit: limit, Timeout: timeout, AllowedUpdates: allowedUpdates})
	return ups, a.wrap("get updates", err)
}

func (a *api) send(ctx context.Context, m tgbotapi.MessageConfig) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := a.bot(ctx).Send(m)
	return a.wrap("send a message", err)
}

// request makes a call that answers true (setMyCommands, answerCallbackQuery).
func (a *api) request(ctx context.Context, what string, c tgbotapi.Chattable) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := a.bot(ctx).Request(c)
	return a.wrap(what, err)
}

// setWebhook registers url with a secret token; the library's WebhookConfig
// has no field for the secret.
func (a *api) setWebhook(ctx context.Context, url, secret string) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	allowed, _ := json.Marshal(allowedUpdates)
	_, err := a.bot(ctx).MakeRequest("setWebhook", tgbotapi.Params{
		"url": url, "secret_token": secret, "allowed_updates": string(allowed), "max_connections": strconv.Itoa(40),
	})
	return a.wrap("register the webhook", err)
}

func (a *api) deleteWebhook(ctx context.Context) error {
	return a.request(ctx, "remove the webhook", tgbotapi.DeleteWebhookConfig{})
}

// apiError is the Bot API's answer inside err, or nil for transport errors.
func apiError(err error) *tgbotapi.Error {
	var e *tgbotapi.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// retryWait is how long to wait before trying again after err: what
// Telegram asked for, or the next step of the backoff in *wait.
func retryWait(err error, wait *time.Duration, max time.Duration) time.Duration {
	if e := apiError(err); e != nil && e.RetryAfter > 0 {
		return time.Duration(e.RetryAfter) * time.Second
	}
	d := *wait
	*wait = min(2**wait, max)
	return d
}

// sleep waits for d or until ctx is done, and then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
