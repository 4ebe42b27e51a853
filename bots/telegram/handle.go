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

// feedbackAgain answers a second press by the same person on one message.
const feedbackAgain = "You already told us, thank you."

// labelThanked replaces the feedback buttons once they were pressed.
const labelThanked = "✓ Thanks for your feedback"

// turn is the state of handling one update.
type turn struct {
	c        *chat
	chatID   int64 // where the reply goes; 0 until known
	thread   int   // the forum topic the reply goes to, 0 for none
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
	if j.notice {
		b.sendNotice(ctx, c, j)
		return true
	}
	metrics.Updates.WithLabelValues(Platform).Inc()
	st := &turn{c: c, at: j.at, thread: j.u.Thread}
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
			b.hook(j.u.Update)
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

func (b *Bot) handleUpdate(ctx context.Context, st *turn, u incoming) {
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
	if isCmd && strings.EqualFold(cmd, "ask") {
		// "/ask QUESTION": the way into a group in privacy mode
		isCmd, text = false, arg
		if strings.TrimSpace(arg) == "" {
			isCmd, cmd = true, "help"
		}
	} else if group && !isCmd {
		// With privacy mode on, Telegram delivers only commands and replies
		// to the bot; with it off (or the bot an admin), everything, so a
		// mention is still looked for.
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
		st.q = bots.Question{Text: text, Region: region, Chat: conversationKey(m.Chat.ID, st.thread)}
		r, err = b.eng.Answer(ctx, st.q)
		if err == nil && r.NamedRegion() != "" && r.NamedRegion() != region {
			b.setChatRegion(ctx, m.Chat.ID, r.NamedRegion()) // "I'm in Leeds": as /region does
		}
	}
	if err != nil {
		return // stopping
	}
	b.reply(ctx, st, r)
}

// addressed reports whether a message may need an answer: anything in a
// private chat; in groups commands for this bot, /ask, replies to the bot
// and messages that mention it.
func (b *Bot) addressed(m *tgbotapi.Message) bool {
	if m.Chat == nil || m.Chat.Type == "channel" || (m.From != nil && m.From.ID == b.self.ID) {
		return false
	}
	if !isGroup(m.Chat) {
		return true
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if _, _, isCmd, forUs := b.parseCommand(text); isCmd {
		return forUs
	}
	_, mentioned := b.stripMention(text)
	return mentioned || b.repliesToUs(m)
}

// conversationKey is bots.Question.Chat: the chat, and the forum topic.
func conversationKey(chatID int64, thread int) string {
	k := chatKey(chatID)
	if thread != 0 {
		k += ":" + strconv.Itoa(thread)
	}
	return k
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
		b.onFeedback(ctx, cq, rest)
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

// onFeedback counts a "Was this helpful?" press once per message and
// person, for a topic that exists (callback data can be forged), and then
// shows it as thanked: in a private chat the pair of buttons becomes a
// "thanks"; in a group they stay for the others.
func (b *Bot) onFeedback(ctx context.Context, cq *tgbotapi.CallbackQuery, data string) {
	answer, topic, ok := strings.Cut(data, ":")
	if !ok || !b.cfg.Feedback || (answer != "y" && answer != "n") {
		b.ackCallback(ctx, cq.ID, "") // "h:done", or feedback turned off since
		return
	}
	if _, known := b.eng.Base().Topic(topic); !known || cq.Message == nil || cq.Message.Chat == nil {
		b.ackCallback(ctx, cq.ID, "")
		return
	}
	var who int64
	if cq.From != nil {
		who = cq.From.ID
	}
	if !b.pressed.add(cq.Message.Chat.ID, cq.Message.MessageID, who) {
		b.ackCallback(ctx, cq.ID, feedbackAgain)
		return
	}
	helpful := answer == "y"
	b.rec.Record(ctx, bots.Event{Platform: Platform, Topic: topic, Helpful: &helpful})
	b.ackCallback(ctx, cq.ID, feedbackThanks)
	if isGroup(cq.Message.Chat) || cq.Message.ReplyMarkup == nil {
		return
	}
	if kb, changed := thanked(*cq.Message.ReplyMarkup); changed {
		if err := b.api.editMarkup(ctx, cq.Message.Chat.ID, cq.Message.MessageID, kb); err != nil {
			b.log.Warn("could not mark the feedback as given", "err", err)
		}
	}
}

// thanked is kb with the "Was this helpful?" row replaced by a thanks.
func thanked(kb tgbotapi.InlineKeyboardMarkup) (tgbotapi.InlineKeyboardMarkup, bool) {
	var rows [][]tgbotapi.InlineKeyboardButton
	changed := false
	for _, row := range kb.InlineKeyboard {
		fb := false
		for _, btn := range row {
			if btn.CallbackData != nil && strings.HasPrefix(*btn.CallbackData, "h:") {
				fb = true
			}
		}
		if fb {
			if !changed {
				rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(labelThanked, "h:done")))
			}
			changed = true
			continue
		}
		rows = append(rows, row)
	}
	return tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}, changed
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

// reply sends a reply as one or more messages, buttons on the last, all in
// the topic where the person asked, and records it once all went out.
func (b *Bot) reply(ctx context.Context, st *turn, r bots.Reply) {
	parts, mode := render(r)
	kb := b.keyboard(r)
	for i := 0; i < len(parts); i++ {
		msg := outMsg{chatID: st.chatID, thread: st.thread, text: parts[i], mode: mode}
		if st.sent == 0 {
			msg.replyTo = st.replyTo
		}
		if i == len(parts)-1 {
			msg.markup = kb
		}
		err := b.send(ctx, st.c, &msg)
		if errors.Is(err, errTooLong) {
			// Telegram counts differently than we did: split this part
			// again and go on with its halves.
			if halves := splitAgain(parts[i], mode); len(halves) == 2 {
				parts = append(parts[:i], append(halves, parts[i+1:]...)...)
				i--
				continue
			}
		}
		if err != nil {
			if ctx.Err() == nil {
				metrics.SendErrors.WithLabelValues(Platform).Inc()
				b.log.Warn("could not send a reply; giving up on it", "err", err)
			}
			return
		}
		st.chatID = msg.chatID // a group may have moved to a supergroup
		st.sent++
	}
	st.finished = true
	metrics.SendLatency.WithLabelValues(Platform).Observe(time.Since(st.at).Seconds())
	b.rec.Record(ctx, bots.NewEvent(Platform, st.q, r))
}

// noticeText tells a person who wrote faster than the bot may answer that
// some messages were skipped; crises never are.
const noticeText = "I'm still answering your earlier messages, so I skipped the newest ones. Please wait for my replies, then ask again. If you are in danger, call the crisis line below now."

// sendNotice sends the one "still answering" notice of a flood, with the
// referral every message carries. It is best effort: no update waits on it.
func (b *Bot) sendNotice(ctx context.Context, c *chat, j job) {
	var chatID int64
	replyTo := 0
	switch {
	case j.u.Message != nil && j.u.Message.Chat != nil:
		chatID = j.u.Message.Chat.ID
		if isGroup(j.u.Message.Chat) {
			replyTo = j.u.Message.MessageID
		}
	case j.u.CallbackQuery != nil && j.u.CallbackQuery.Message != nil && j.u.CallbackQuery.Message.Chat != nil:
		chatID = j.u.CallbackQuery.Message.Chat.ID
	default:
		return
	}
	r, err := b.eng.Open(ctx, "crisis", b.chatRegion(ctx, chatID))
	if err != nil {
		return
	}
	text := noticeText + "\n\n" + strings.Join(r.Referral().Lines(), "\n")
	msg := outMsg{chatID: chatID, thread: j.u.Thread, text: text, replyTo: replyTo}
	if err := b.send(ctx, c, &msg); err != nil && ctx.Err() == nil {
		b.log.Warn("could not send the 'still answering' notice", "err", err)
	}
}

// errTooLong is Telegram's "Bad Request: message is too long".
var errTooLong = errors.New("Telegram says the message is too long")

// send sends one message within the limits, waiting and trying again on
// 429s and network faults until ctx ends; it gives up only on errors that
// another try cannot fix (the person blocked the bot). "message is too
// long" comes back as errTooLong for the caller to split.
func (b *Bot) send(ctx context.Context, c *chat, msg *outMsg) error {
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
				d := retryWait(err, &wait, b.cfg.MaxBackoff)
				b.slow.note("sendMessage", d)
				if sleep(ctx, d) != nil {
					return err
				}
				continue
			case e.MigrateToChatID != 0:
				msg.chatID = e.MigrateToChatID // the group became a supergroup
				continue
			case e.Code == 400 && msg.mode != "" && !plain && strings.Contains(desc, "parse entities"):
				b.log.Warn("Telegram could not read a message's formatting; sending it as plain text", "err", err)
				msg.text, msg.mode, plain = plainText(msg.text), "", true
				continue
			case e.Code == 400 && strings.Contains(desc, "too long"):
				return fmt.Errorf("%w: %w", errTooLong, err)
			case e.Code == 400 && msg.replyTo != 0 && (strings.Contains(desc, "repl")):
				// "message to be replied not found", "replied message not
				// found", "reply message not found": the person deleted it
				msg.replyTo = 0
				continue
			case e.Code == 400 && msg.thread != 0 && strings.Contains(desc, "thread not found"):
				msg.thread = 0 // the topic was deleted: answer in the chat
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
