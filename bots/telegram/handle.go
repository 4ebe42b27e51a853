package telegram

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/metrics"
)

// feedbackThanks answers a "Was this helpful?" press as a short notice on
// the button, not as a message.
const feedbackThanks = "Thank you, that helps us improve."

// turn is the state of handling one update.
type turn struct {
	c        *chat
	chatID   int64 // where the reply goes; 0 until known
	replyTo  int   // in groups, the message answered
	q        bots.Question
	at       time.Time
	sent     int  // messages sent
	finished bool // the whole reply went out
}

// handleJob handles one update and says whether it is finished: false only
// when the bot is stopping and its reply did not go out, so that it is
// answered after a restart. A panic is recovered and logged without the
// message, and the person still gets a calm reply.
func (b *Bot) handleJob(ctx context.Context, c *chat, j job) bool {
	metrics.Updates.WithLabelValues(Platform).Inc()
	st := &turn{c: c, at: j.at}
	if c.group == nil && c.id != 0 {
		st.chatID = c.id // in a private chat every update gets a reply, even after a panic
	}
	panicked := false
	func() {
		defer func() {
			if p := recover(); p != nil {
				panicked = true
				b.log.Error("recovered from a panic while handling a Telegram update", "update", j.u.UpdateID,
					"panic", b.describePanic(p), "stack", b.red.String(string(debug.Stack())))
			}
		}()
		if b.hook != nil {
			b.hook(j.u)
		}
		b.handleUpdate(ctx, st, j.u)
	}()
	if panicked {
		if st.chatID != 0 && st.sent == 0 {
			b.calmReply(ctx, st)
		}
		return true // a poison update must not be handed out again
	}
	return st.finished || ctx.Err() == nil
}

// describePanic says what went wrong without anything a person wrote:
// runtime errors carry only the program's own words; other values may hold
// text, so only their type is shown unless text logging is on.
func (b *Bot) describePanic(p any) string {
	if re, ok := p.(runtime.Error); ok {
		return b.red.String(re.Error())
	}
	if b.cfg.LogText {
		return b.red.String(fmt.Sprint(p))
	}
	return fmt.Sprintf("a value of type %T", p)
}

// calmReply answers after a panic with the engine's reply to an empty
// message, which always carries the referral.
func (b *Bot) calmReply(ctx context.Context, st *turn) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("recovered from a second panic while sending a general reply", "panic", b.describePanic(p))
		}
	}()
	st.q = bots.Question{Region: b.chatRegion(ctx, st.chatID)}
	r, err := b.eng.Answer(ctx, st.q)
	if err != nil {
		return
	}
	b.reply(ctx, st, r)
}

func (b *Bot) handleUpdate(ctx context.Context, st *turn, u tgbotapi.Update) {
	switch {
	case u.Message != nil:
		b.onMessage(ctx, st, u.Message)
	case u.CallbackQuery != nil:
		b.onCallback(ctx, st, u.CallbackQuery)
	default:
		st.finished = true // nothing to answer
	}
}

func (b *Bot) onMessage(ctx context.Context, st *turn, m *tgbotapi.Message) {
	st.finished = true // until there is something to send
	if m.Chat == nil || m.Chat.Type == "channel" || (m.From != nil && m.From.ID == b.self.ID) {
		return
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	group := isGroup(m.Chat)
	cmd, arg, isCmd, forUs := b.parseCommand(text)
	if isCmd && !forUs {
		return // "/help@otherbot"
	}
	if group && !isCmd {
		rest, mentioned := b.stripMention(text)
		if !mentioned && !b.repliesToUs(m) {
			return // group chatter not meant for the bot
		}
		text = rest
	}
	st.finished = false
	st.chatID = m.Chat.ID
	if group {
		st.replyTo = m.MessageID
	}
	if b.cfg.LogText {
		b.log.Info("telegram message", "chat", m.Chat.ID, "text", text)
	}
	region := b.chatRegion(ctx, m.Chat.ID)
	var r bots.Reply
	var err error
	if isCmd {
		r, err = b.command(ctx, m.Chat.ID, cmd, arg, region)
	} else {
		st.q = bots.Question{Text: text, Region: region}
		r, err = b.eng.Answer(ctx, st.q)
	}
	if err != nil {
		return // stopping
	}
	b.reply(ctx, st, r)
}

// command maps a command to what the engine shows for it. An unknown
// command is tried as a topic id (/restless_legs), which the engine turns
// into the help text when there is no such topic.
func (b *Bot) command(ctx context.Context, chatID int64, cmd, arg, region string) (bots.Reply, error) {
	id := bots.CommandID(cmd)
	if id == "region" {
		return b.chooseRegion(ctx, chatID, arg, region)
	}
	return b.eng.Open(ctx, id, region)
}

// chooseRegion handles "/region NAME": it remembers the chat's region and
// shows its helplines. Without a name, or with one not known, it shows the
// current region's helplines with the others as buttons.
func (b *Bot) chooseRegion(ctx context.Context, chatID int64, name, current string) (bots.Reply, error) {
	code, ok := b.eng.Region(strings.TrimSpace(name))
	if strings.TrimSpace(name) == "" || !ok {
		return b.eng.Open(ctx, "resources", current)
	}
	b.setChatRegion(ctx, chatID, code)
	return b.eng.Open(ctx, "region:"+code, code)
}

func (b *Bot) onCallback(ctx context.Context, st *turn, cq *tgbotapi.CallbackQuery) {
	st.finished = true
	kind, rest, _ := strings.Cut(cq.Data, ":")
	switch kind {
	case "h": // "h:y:topic" / "h:n:topic"
		answer, topic, ok := strings.Cut(rest, ":")
		thanks := ""
		if ok && topic != "" && (answer == "y" || answer == "n") && b.cfg.Feedback {
			helpful := answer == "y"
			b.rec.Record(ctx, bots.Event{Platform: Platform, Topic: topic, Helpful: &helpful})
			thanks = feedbackThanks
		}
		b.ackCallback(ctx, cq.ID, thanks)
	case "o": // "o:<id for Engine.Open>"
		b.ackCallback(ctx, cq.ID, "")
		if cq.Message == nil || cq.Message.Chat == nil || rest == "" {
			return
		}
		st.finished = false
		st.chatID = cq.Message.Chat.ID
		region := b.chatRegion(ctx, st.chatID)
		if name, ok := strings.CutPrefix(rest, "region:"); ok {
			if code, ok := b.eng.Region(name); ok {
				b.setChatRegion(ctx, st.chatID, code)
				region = code
			}
		}
		r, err := b.eng.Open(ctx, rest, region)
		if err != nil {
			return
		}
		b.reply(ctx, st, r)
	default:
		b.ackCallback(ctx, cq.ID, "") // a button from another version: stop its spinner
	}
}

// ackCallback stops the button's spinner; Telegram forgets the press after
// a while, so one try is enough.
func (b *Bot) ackCallback(ctx context.Context, id, text string) {
	if id == "" {
		return
	}
	if err := b.api.request(ctx, "answer a button press", tgbotapi.NewCallback(id, text)); err != nil {
		b.log.Warn("could not answer a button press", "err", err)
	}
}

// parseCommand reads "/name@bot args". Telegram's entity offsets are in
// UTF-16 units and the library slices bytes with them, so the text is
// parsed here instead. forUs is false only for a command to another bot.
func (b *Bot) parseCommand(text string) (cmd, arg string, isCmd, forUs bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", false, false
	}
	word, arg, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(word, "\n\t"); i >= 0 {
		word, arg = word[:i], word[i+1:]+" "+arg
	}
	name, at, hasAt := strings.Cut(word, "@")
	if name == "" || len(name) > 32 || strings.IndexFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) >= 0 {
		return "", "", false, false
	}
	return name, strings.TrimSpace(arg), true, !hasAt || strings.EqualFold(at, b.self.UserName)
}

// stripMention removes "@botname" from text and says whether it was there.
func (b *Bot) stripMention(text string) (string, bool) {
	if b.self.UserName == "" {
		return text, false
	}
	name := "@" + b.self.UserName
	var out strings.Builder
	found := false
	for i := 0; i < len(text); {
		if i+len(name) <= len(text) && strings.EqualFold(text[i:i+len(name)], name) && !wordByte(text, i+len(name)) {
			found = true
			i += len(name)
			continue
		}
		out.WriteByte(text[i])
		i++
	}
	return strings.TrimSpace(out.String()), found
}

func wordByte(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func (b *Bot) repliesToUs(m *tgbotapi.Message) bool {
	r := m.ReplyToMessage
	return r != nil && r.From != nil && r.From.ID == b.self.ID
}

func chatKey(id int64) string { return Platform + ":" + strconv.FormatInt(id, 10) }

// chatRegion is the region the chat chose, or the default.
func (b *Bot) chatRegion(ctx context.Context, chatID int64) string {
	r, ok, err := b.store.ChatRegion(ctx, chatKey(chatID))
	if err != nil {
		b.log.Warn("could not read a chat's region; using the default", "err", b.red.Error(err))
	}
	if ok && r != "" {
		return r
	}
	return b.cfg.Region
}

func (b *Bot) setChatRegion(ctx context.Context, chatID int64, code string) {
	if err := b.store.SetChatRegion(ctx, chatKey(chatID), code); err != nil {
		b.log.Warn("could not remember a chat's region", "err", b.red.Error(err))
	}
}

// reply sends a reply as one or more messages, buttons on the last, and
// records it once all went out.
func (b *Bot) reply(ctx context.Context, st *turn, r bots.Reply) {
	parts, mode := render(r)
	kb := b.keyboard(r)
	for i, p := range parts {
		msg := tgbotapi.NewMessage(st.chatID, p)
		msg.ParseMode = mode
		msg.DisableWebPagePreview = true
		if i == 0 && st.replyTo != 0 {
			msg.ReplyToMessageID = st.replyTo
			msg.AllowSendingWithoutReply = true
		}
		if i == len(parts)-1 && kb != nil {
			msg.ReplyMarkup = *kb
		}
		if err := b.send(ctx, st.c, &msg); err != nil {
			if ctx.Err() == nil {
				metrics.SendErrors.WithLabelValues(Platform).Inc()
				b.log.Warn("could not send a reply; giving up on it", "err", err)
			}
			return
		}
		st.sent++
	}
	st.finished = true
	metrics.SendLatency.WithLabelValues(Platform).Observe(time.Since(st.at).Seconds())
	b.rec.Record(ctx, bots.NewEvent(Platform, st.q, r))
}

// send sends one message within the limits, waiting and trying again on
// 429s and network faults until ctx ends; it gives up only on errors that
// another try cannot fix (the person blocked the bot).
func (b *Bot) send(ctx context.Context, c *chat, msg *tgbotapi.MessageConfig) error {
	wait := b.cfg.MinBackoff
	plain := false
	for {
		if err := c.wait(ctx, b.global); err != nil {
			return fmt.Errorf("sending stopped: %w", err)
		}
		err := b.api.send(ctx, *msg)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if e := apiError(err); e != nil {
			desc := strings.ToLower(e.Message)
			switch {
			case e.Code == 429 || e.RetryAfter > 0:
				metrics.RateLimited.WithLabelValues(Platform).Inc()
				d := retryWait(err, &wait, b.cfg.MaxBackoff)
				b.log.Warn("Telegram asked the bot to slow down; waiting", "retry_in", d)
				if sleep(ctx, d) != nil {
					return err
				}
				continue
			case e.MigrateToChatID != 0:
				msg.ChatID = e.MigrateToChatID // the group became a supergroup
				continue
			case e.Code == 400 && msg.ParseMode != "" && !plain && strings.Contains(desc, "parse entities"):
				b.log.Warn("Telegram could not read a message's formatting; sending it as plain text", "err", err)
				msg.Text, msg.ParseMode, plain = plainText(msg.Text), "", true
				continue
			case e.Code == 400 && msg.ReplyToMessageID != 0 && strings.Contains(desc, "reply"):
				msg.ReplyToMessageID = 0
				continue
			case e.Code >= 400 && e.Code < 500:
				return err // blocked, chat gone, bad request: trying again cannot help
			}
		}
		d := retryWait(err, &wait, b.cfg.MaxBackoff)
		b.log.Warn("could not reach Telegram to send a reply; retrying", "err", err, "retry_in", d)
		if sleep(ctx, d) != nil {
			return errors.Join(err, ctx.Err())
		}
	}
}
