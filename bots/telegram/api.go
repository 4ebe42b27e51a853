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

// incoming is an update with what go-telegram-bot-api v5.5.1 does not
// decode: the forum topic its message was written in.
type incoming struct {
	tgbotapi.Update
	// Thread is the message_thread_id of a message written in a forum topic
	// (is_topic_message), or of the message a pressed button is on; 0 in
	// "General", in other chats, and for reply threads outside forums.
	Thread int
}

// topicFields are the Bot API fields v5.5.1's Message lacks
// (https://core.telegram.org/bots/api#message).
type topicFields struct {
	Thread int  `json:"message_thread_id"`
	Topic  bool `json:"is_topic_message"`
}

// decodeIncoming reads one update as Telegram sends it.
func decodeIncoming(raw []byte) (incoming, error) {
	var in incoming
	if err := json.Unmarshal(raw, &in.Update); err != nil {
		return in, err
	}
	var extra struct {
		Message       *topicFields `json:"message"`
		CallbackQuery *struct {
			Message *topicFields `json:"message"`
		} `json:"callback_query"`
	}
	if json.Unmarshal(raw, &extra) == nil {
		switch {
		case extra.Message != nil && extra.Message.Topic:
			in.Thread = extra.Message.Thread
		case extra.CallbackQuery != nil && extra.CallbackQuery.Message != nil && extra.CallbackQuery.Message.Topic:
			in.Thread = extra.CallbackQuery.Message.Thread
		}
	}
	return in, nil
}

// getUpdates asks for updates from offset on, waiting up to timeout seconds
// for one to arrive. It reads the answer itself to keep message_thread_id.
func (a *api) getUpdates(ctx context.Context, offset, limit, timeout int) ([]incoming, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout+time.Duration(timeout)*time.Second)
	defer cancel()
	allowed, _ := json.Marshal(allowedUpdates)
	p := tgbotapi.Params{"allowed_updates": string(allowed)}
	p.AddNonZero("offset", offset)
	p.AddNonZero("limit", limit)
	p.AddNonZero("timeout", timeout)
	resp, err := a.bot(ctx).MakeRequest("getUpdates", p)
	if err != nil {
		return nil, a.wrap("get updates", err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, a.wrap("read the updates", err)
	}
	out := make([]incoming, 0, len(raws))
	for _, raw := range raws {
		in, err := decodeIncoming(raw)
		if err != nil {
			// one update we cannot read must not block the others: keep
			// its id so that it is confirmed, with nothing to answer
			var id struct {
				ID int `json:"update_id"`
			}
			_ = json.Unmarshal(raw, &id)
			in = incoming{Update: tgbotapi.Update{UpdateID: id.ID}}
		}
		out = append(out, in)
	}
	return out, nil
}

// outMsg is one sendMessage. v5.5.1's MessageConfig has no
// message_thread_id, so the parameters are built here.
type outMsg struct {
	chatID  int64
	thread  int // forum topic, 0 for none
	text    string
	mode    string
	replyTo int
	markup  *tgbotapi.InlineKeyboardMarkup
}

func (m outMsg) params() tgbotapi.Params {
	p := tgbotapi.Params{"chat_id": strconv.FormatInt(m.chatID, 10), "text": m.text, "disable_web_page_preview": "true"}
	p.AddNonEmpty("parse_mode", m.mode)
	p.AddNonZero("message_thread_id", m.thread)
	if m.replyTo != 0 {
		p.AddNonZero("reply_to_message_id", m.replyTo)
		p["allow_sending_without_reply"] = "true"
	}
	if m.markup != nil {
		_ = p.AddInterface("reply_markup", m.markup)
	}
	return p
}

func (a *api) send(ctx context.Context, m outMsg) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := a.bot(ctx).MakeRequest("sendMessage", m.params())
	return a.wrap("send a message", err)
}

// editMarkup replaces the buttons under a message the bot sent.
func (a *api) editMarkup(ctx context.Context, chatID int64, messageID int, kb tgbotapi.InlineKeyboardMarkup) error {
	return a.request(ctx, "update the buttons", tgbotapi.NewEditMessageReplyMarkup(chatID, messageID, kb))
}

// request makes a call that answers true (setMyCommands, answerCallbackQuery).
func (a *api) request(ctx context.Context, what string, c tgbotapi.Chattable) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	_, err := a.bot(ctx).Request(c)
	return a.wrap(what, err)
}

// maxConnections is how many webhook requests Telegram may have open at
// once (1-100, default 40). Each request stays open until its reply went
// out, and a flooding chat holds a few: the most leaves room for everyone
// else.
const maxConnections = 100

// setWebhook registers url with a secret token; the library's WebhookConfig
// has no field for the secret.
func (a *api) setWebhook(ctx context.Context, url, secret string) error {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	allowed, _ := json.Marshal(allowedUpdates)
	_, err := a.bot(ctx).MakeRequest("setWebhook", tgbotapi.Params{
		"url": url, "secret_token": secret, "allowed_updates": string(allowed), "max_connections": strconv.Itoa(maxConnections),
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
