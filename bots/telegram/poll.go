package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
)

// errOtherPoller is a 409 "terminated by other getUpdates request": another
// process polls with this token.
var errOtherPoller = errors.New("another process is getting this bot's updates with the same token (Telegram answered 409 Conflict: terminated by other getUpdates request); this instance stopped polling so that no message is answered twice. Run one instance per token, or use webhook mode (TELEGRAM_WEBHOOK_URL) behind a load balancer for several replicas")

// errWebhookActive is a 409 "can't use getUpdates method while webhook is
// active" without TELEGRAM_MODE=polling.
var errWebhookActive = errors.New("Telegram has a webhook registered for this bot, so it cannot be polled (409 Conflict); another deployment may be receiving its messages in webhook mode. To take the bot over with long polling and remove the webhook, set TELEGRAM_MODE=polling; to use webhook mode here, set TELEGRAM_WEBHOOK_URL")

// poll is the long-polling loop. The library's GetUpdatesChan has no
// context, ignores retry_after and spins on empty answers, so this is ours.
// The offset it sends is the first update not yet answered: updates are
// confirmed only after their replies went out, and ones already taken are
// skipped when Telegram hands them out again. It returns nil when ctx ends,
// and an error when this instance must not poll: another one does, or a
// webhook is registered and the operator did not ask for polling.
func (b *Bot) poll(ctx context.Context) error {
	wait := b.cfg.MinBackoff
	timeout := int(b.cfg.PollTimeout / time.Second)
	const limit = 100 // Telegram's most per call
	for ctx.Err() == nil {
		moved := b.track.moved()
		start := time.Now()
		ups, err := b.api.getUpdates(ctx, b.track.offset(), limit, timeout)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if e := apiError(err); e != nil && e.Code == http.StatusUnauthorized {
				return fmt.Errorf("Telegram refused the bot token while polling (the Telegram token was refused; was it revoked?); check TELEGRAM_BOT_TOKEN: %w", err)
			}
			if e := apiError(err); e != nil && e.Code == http.StatusConflict {
				if !strings.Contains(strings.ToLower(e.Message), "webhook") {
					b.log.Error("another instance is polling with this token; stopping", "err", err)
					return errOtherPoller
				}
				if !b.cfg.Polling {
					return errWebhookActive
				}
				// the operator asked for polling: take the bot over
				b.log.Warn("a webhook is registered; removing it because TELEGRAM_MODE=polling")
				if derr := b.api.deleteWebhook(ctx); derr != nil {
					b.log.Warn("could not remove the webhook", "err", derr)
				}
			}
			d := retryWait(err, &wait, b.cfg.MaxBackoff)
			if e := apiError(err); e != nil && e.Code == http.StatusTooManyRequests {
				b.slow.note("getUpdates", d)
			} else {
				b.log.Warn("cannot get updates from Telegram; retrying", "err", err, "retry_in", d)
			}
			if sleep(ctx, d) != nil {
				return nil
			}
			continue
		}
		b.connected()
		wait = b.cfg.MinBackoff
		// Read the whole batch for crisis words before queueing any of it,
		// then queue its crises first: a chat's first message would
		// otherwise start (and its next ones leave the queue) while a
		// crisis later in the same batch is still being read.
		var batch []incoming
		for _, u := range ups {
			if b.track.take(u.UpdateID) {
				batch = append(batch, u)
			}
		}
		fresh := len(batch)
		crisis := make([]bool, len(batch))
		for i, u := range batch {
			crisis[i] = b.isCrisis(u)
		}
		for _, first := range []bool{true, false} {
			for i, u := range batch {
				if crisis[i] != first {
					continue
				}
				id := u.UpdateID
				if b.dispatch(u, crisis[i], func(ok bool) {
					if ok {
						b.track.finish(id)
					}
				}) == dropped {
					b.track.finish(id)
				}
			}
		}
		if fresh == 0 && len(ups) >= limit {
			// Telegram's window is full of updates already taken: a chat
			// that floods holds the offset back and hides everyone else's
			// messages. Drop what flooding chats still have waiting.
			if n := b.disp.shed(); n > 0 {
				b.log.Debug("dropped messages waiting in chats that flood, to reach other chats", "dropped", n)
			}
		}
		if !b.track.holding() {
			if len(ups) == 0 && (timeout == 0 || time.Since(start) < time.Duration(timeout)*time.Second/2) {
				// an empty answer that did not wait: do not spin
				if sleep(ctx, b.cfg.MinBackoff) != nil {
					return nil
				}
			}
			continue // a long poll: it returns as soon as something arrives
		}
		// Updates are being answered: Telegram hands them back at once until
		// they are confirmed, so a long poll cannot wait. Ask again after
		// BusyPoll for new ones, or, when the window was full, only once the
		// offset moves.
		if len(ups) >= limit && fresh == 0 {
			t := time.NewTimer(b.cfg.MinBackoff)
			select {
			case <-ctx.Done():
			case <-moved:
			case <-t.C:
			}
			t.Stop()
		}
		if sleep(ctx, b.cfg.BusyPoll-time.Since(start)) != nil {
			return nil
		}
	}
	return nil
}

// dispatch queues an update on its chat's worker, a crisis first.
func (b *Bot) dispatch(u incoming, crisis bool, done func(bool)) outcome {
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
	if u.Message != nil && !b.addressed(u.Message) {
		return dropped // group chatter: nothing to answer, and no place in the queue
	}
	light := u.CallbackQuery != nil && strings.HasPrefix(u.CallbackQuery.Data, "h:")
	return b.disp.push(id, group, job{u: u, at: time.Now(), done: done, crisis: crisis, light: light})
}

// isCrisis scans a message for crisis words before it is queued, so that
// a crisis is never dropped or kept waiting behind a chat's other messages.
func (b *Bot) isCrisis(u incoming) bool {
	m := u.Message
	if m == nil || !b.addressed(m) {
		return false // group chatter is not read at all
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if cmd, arg, isCmd, _ := b.parseCommand(text); isCmd {
		if bots.CommandID(cmd) == "crisis" {
			return true
		}
		text = arg
	}
	if strings.TrimSpace(text) == "" {
		return false
	}
	r, err := b.eng.Answer(context.Background(), bots.Question{Text: text})
	return err == nil && r.Kind() == bots.KindCrisis
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
		if e := apiError(err); e != nil && (e.Code == http.StatusUnauthorized || e.Code == http.StatusNotFound) {
			return fmt.Errorf("Telegram refused the bot token (the Telegram token was refused); check TELEGRAM_BOT_TOKEN: %w", err)
		}
		if e := apiError(err); e != nil && e.Code != http.StatusTooManyRequests && e.Code < 500 {
			return err // a URL Telegram will not use: it says why
		}
		d := retryWait(err, &wait, b.cfg.MaxBackoff)
		b.log.Warn("cannot register the webhook yet; retrying", "err", err, "retry_in", d)
		if sleep(ctx, d) != nil {
			return nil
		}
	}
	b.connected()
	b.log.Info("telegram webhook registered", "path", WebhookPath)
	<-ctx.Done()
	return nil
}

// webhooks are the webhook requests whose updates are being answered.
type webhooks struct {
	mu      sync.Mutex
	pending map[int]*pendingHook
}

type pendingHook struct {
	done chan struct{} // closed when the update needs no more work
	ok   bool          // its reply went out (or it needed none)
}

// serveWebhook takes one update from Telegram and answers 200 only once its
// reply was sent (or it needed none, or was dropped in a flood): Telegram
// sends again whatever it did not see answered 2xx, so an update is never
// lost to a crash, and the bot keeps nothing on disk. Requests without the
// secret are refused; while stopping, new updates are refused (503) and
// those whose replies do not go out in time are answered 503, so that
// Telegram delivers them to the next process.
func (b *Bot) serveWebhook(w http.ResponseWriter, r *http.Request) {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(SecretHeader)), []byte(b.secret)) != 1 {
		http.Error(w, "wrong or missing secret token", http.StatusForbidden)
		return
	}
	b.connected()
	if !b.ready.Load() {
		unavailable(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the update", http.StatusBadRequest)
		return
	}
	u, err := decodeIncoming(body)
	if err != nil {
		http.Error(w, "not a Telegram update", http.StatusBadRequest)
		return
	}
	id := u.UpdateID

	b.hooks.mu.Lock()
	p := b.hooks.pending[id]
	if p == nil {
		if b.recent.has(id) {
			b.hooks.mu.Unlock()
			writeOK(w) // a redelivery of one already answered
			return
		}
		p = &pendingHook{done: make(chan struct{})}
		b.hooks.pending[id] = p
		b.hooks.mu.Unlock()
		finish := func(ok bool) {
			b.hooks.mu.Lock()
			delete(b.hooks.pending, id)
			if ok {
				b.recent.add(id)
			}
			p.ok = ok
			b.hooks.mu.Unlock()
			close(p.done)
		}
		switch b.dispatch(u, b.isCrisis(u), finish) {
		case dropped:
			finish(true)
		case refused:
			finish(false)
		}
	} else {
		b.hooks.mu.Unlock() // a redelivery of one being answered: wait on it
	}

	t := time.NewTimer(b.cfg.WebhookWait)
	defer t.Stop()
	select {
	case <-p.done:
		b.hooks.mu.Lock()
		ok := p.ok
		b.hooks.mu.Unlock()
		if ok {
			writeOK(w)
			return
		}
		unavailable(w)
	case <-t.C:
		// still queued: Telegram will ask again, and finds it done or waits
		unavailable(w)
	case <-r.Context().Done():
	}
}

func unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "not answered yet; send it again later", http.StatusServiceUnavailable)
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]bool{"ok": true})
}
