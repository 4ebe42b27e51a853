package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// poll is the long-polling loop. The library's GetUpdatesChan has no
// context, ignores retry_after and spins on empty answers, so this is ours.
// The offset it sends is the first update not yet answered: updates are
// confirmed only after their replies went out, and ones already taken are
// skipped when Telegram hands them out again.
func (b *Bot) poll(ctx context.Context) {
	wait := b.cfg.MinBackoff
	timeout := int(b.cfg.PollTimeout / time.Second)
	for ctx.Err() == nil {
		moved := b.track.moved()
		start := time.Now()
		ups, err := b.api.getUpdates(ctx, b.track.offset(), 100, timeout)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if e := apiError(err); e != nil && e.Code == http.StatusConflict && strings.Contains(strings.ToLower(e.Message), "webhook") {
				// a webhook left from webhook mode blocks polling
				// then wait as after any error, in case something sets it again
				b.log.Warn("a webhook is registered; removing it to use long polling")
				if derr := b.api.deleteWebhook(ctx); derr != nil {
					b.log.Warn("could not remove the webhook", "err", derr)
				}
			}
			d := retryWait(err, &wait, b.cfg.MaxBackoff)
			b.log.Warn("cannot get updates from Telegram; retrying", "err", err, "retry_in", d)
			if sleep(ctx, d) != nil {
				return
			}
			continue
		}
		wait = b.cfg.MinBackoff
		fresh := 0
		for _, u := range ups {
			if !b.track.take(u.UpdateID) {
				continue
			}
			fresh++
			id := u.UpdateID
			b.dispatch(u, func() { b.track.finish(id) })
		}
		switch {
		case fresh > 0:
		case len(ups) > 0:
			// All of them are still being answered: wait until one is,
			// rather than being handed the same ones again at once.
			t := time.NewTimer(b.cfg.MinBackoff)
			select {
			case <-ctx.Done():
			case <-moved:
			case <-t.C:
			}
			t.Stop()
		case timeout == 0 || time.Since(start) < time.Duration(timeout)*time.Second/2:
			// an empty answer that did not wait: do not spin
			if sleep(ctx, b.cfg.MinBackoff) != nil {
				return
			}
		}
	}
}

// dispatch queues an update on its chat's worker.
func (b *Bot) dispatch(u tgbotapi.Update, done func()) bool {
	var id int64
	group := false
	var c *tgbotapi.Chat
	switch {
	case u.Message != nil:
		c = u.Message.Chat
	case u.CallbackQuery != nil && u.CallbackQuery.Message != nil:
		c = u.CallbackQuery.Message.Chat
	}
	if c != nil {
		id, group = c.ID, isGroup(c)
	}
	return b.disp.push(id, group, job{u: u, at: time.Now(), done: done})
}

func isGroup(c *tgbotapi.Chat) bool { return c != nil && (c.Type == "group" || c.Type == "supergroup") }

// runWebhook registers the webhook and takes updates until ctx is done.
func (b *Bot) runWebhook(ctx context.Context) error {
	b.ready.Store(true)
	wait := b.cfg.MinBackoff
	for {
		err := b.api.setWebhook(ctx, b.cfg.WebhookURL, b.secret)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		if e := apiError(err); e != nil && e.Code != http.StatusTooManyRequests && e.Code < 500 {
			return err
		}
		d := retryWait(err, &wait, b.cfg.MaxBackoff)
		b.log.Warn("cannot register the webhook yet; retrying", "err", err, "retry_in", d)
		if sleep(ctx, d) != nil {
			return nil
		}
	}
	b.log.Info("telegram webhook registered", "path", WebhookPath)
	<-ctx.Done()
	return nil
}

// serveWebhook takes one update from Telegram. Requests without the secret
// are refused; while stopping, updates are refused so that Telegram delivers
// them again to the next process.
func (b *Bot) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(b.secret)) != 1 {
		http.Error(w, "wrong or missing secret token", http.StatusForbidden)
		return
	}
	if !b.ready.Load() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "not taking updates now", http.StatusServiceUnavailable)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	u, err := b.api.bot(r.Context()).HandleUpdate(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "not a Telegram update", http.StatusBadRequest)
		return
	}
	if !b.recent.add(u.UpdateID) {
		writeOK(w) // a redelivery of one already taken
		return
	}
	if !b.dispatch(*u, nil) {
		b.recent.forget(u.UpdateID)
		w.Header().Set("Retry-After", "1")
		http.Error(w, "not taking updates now", http.StatusServiceUnavailable)
		return
	}
	writeOK(w)
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]bool{"ok": true})
}
