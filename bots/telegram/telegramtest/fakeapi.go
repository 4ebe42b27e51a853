// Package telegramtest is an in-process fake of the Telegram Bot API for
// tests: it serves the methods kratombot uses over real HTTP on 127.0.0.1 so
// that the real go-telegram-bot-api client talks to it, records what the bot
// sent, and can misbehave on purpose (429 floods, dropped connections, going
// away and coming back on the same address).
//
// Where it matters it behaves as Telegram does, each rule with the place it
// comes from: the 409 to the earlier of two concurrent getUpdates, at most
// 100 updates from the offset, webhook delivery and redelivery of what was
// not answered 2xx, privacy mode in groups, and forum topics
// (message_thread_id).
//
// It is for tests only: it must never listen beyond 127.0.0.1 and never be
// imported by non-test code.
package telegramtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Sent is one sendMessage the bot made that the server accepted.
type Sent struct {
	ChatID    int64
	Thread    int // message_thread_id: the forum topic, 0 for none
	MessageID int
	Text      string
	ParseMode string
	ReplyTo   int
	Markup    *tgbotapi.InlineKeyboardMarkup
	At        time.Time
}

// Buttons lists the callback data of the message's inline buttons in order.
func (s Sent) Buttons() []string {
	var out []string
	if s.Markup == nil {
		return nil
	}
	for _, row := range s.Markup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil {
				out = append(out, *b.CallbackData)
			}
		}
	}
	return out
}

// CallbackAnswer is one answerCallbackQuery.
type CallbackAnswer struct {
	ID   string
	Text string
}

// Limits makes the server refuse sends that break Telegram's published
// limits with a 429, as Telegram does, and count them as violations. Slack
// absorbs scheduling jitter between the client's clock and ours.
type Limits struct {
	ChatInterval  time.Duration // at least this between two messages to one chat
	GroupInterval time.Duration // and this between two messages to one group
	GlobalWindow  time.Duration // at most GlobalMax messages in any window this long
	GlobalMax     int
	Slack         time.Duration
	RetryAfter    int // seconds, in the 429 answer; default 1
}

// Server is a fake Bot API. Its zero value is not usable; use NewServer.
type Server struct {
	Token string
	Me    tgbotapi.User

	tb   testing.TB
	addr string

	mu          sync.Mutex
	srv         *httptest.Server
	stopped     chan struct{} // closed while the server is down
	changed     chan struct{} // closed and replaced when updates arrive
	sentCh      chan struct{} // closed and replaced when a message is sent
	updates     []stored
	nextUpdate  int
	confirmed   int
	sent        []Sent
	msgIDs      map[int64]int
	answers     []CallbackAnswer
	commands    []tgbotapi.BotCommand
	webhookURL  string
	webhookSec  string
	calls       map[string]int
	callTimes   map[string][]time.Time
	fail        map[string][]failure
	drop        map[string]int
	ignoreWait  bool
	limits      *Limits
	violations  []string
	lastChat    map[int64]time.Time
	recentSends []time.Time
	tooMany     int

	// Privacy is the bot's privacy mode, on by default as on Telegram.
	privacy   bool
	poll      chan struct{} // closed to end the getUpdates waiting now (409)
	conflicts int
	edits     []Edit
	// webhook delivery
	deliverTo   string
	redeliver   time.Duration
	maxConn     int
	delivering  map[int]bool
	retryAt     map[int]time.Time
	deliveries  map[int]int
	delivererOn bool
}

// stored is an update with what tgbotapi.Update cannot carry.
type stored struct {
	u      tgbotapi.Update
	thread int // message_thread_id of a message in a forum topic
}

// Edit is one editMessageReplyMarkup.
type Edit struct {
	ChatID    int64
	MessageID int
	Markup    *tgbotapi.InlineKeyboardMarkup
}

type failure struct {
	code       int
	desc       string
	retryAfter int
}

// NewServer starts a fake Bot API for token on 127.0.0.1 and stops it when
// the test ends.
func NewServer(tb testing.TB, token string) *Server {
	tb.Helper()
	s := &Server{
		Token: token, tb: tb,
		Me:      tgbotapi.User{ID: 777000111, IsBot: true, FirstName: "Kratom Help", UserName: "kratomhelp_bot"},
		changed: make(chan struct{}), sentCh: make(chan struct{}),
		nextUpdate: 1000, msgIDs: map[int64]int{}, calls: map[string]int{},
		callTimes: map[string][]time.Time{}, fail: map[string][]failure{}, drop: map[string]int{}, lastChat: map[int64]time.Time{},
		privacy: true, redeliver: 50 * time.Millisecond, maxConn: 40,
		delivering: map[int]bool{}, retryAt: map[int]time.Time{}, deliveries: map[int]int{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fake Bot API cannot listen: %v", err)
	}
	s.addr = ln.Addr().String()
	s.start(ln)
	tb.Cleanup(s.Stop)
	return s
}

// Endpoint is the library's endpoint format string for this server.
func (s *Server) Endpoint() string { return "http://" + s.addr + "/bot%s/%s" }

// Addr is host:port.
func (s *Server) Addr() string { return s.addr }

func (s *Server) start(ln net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	srv.Listener.Close()
	srv.Listener = ln
	s.mu.Lock()
	s.srv = srv
	s.stopped = make(chan struct{})
	s.mu.Unlock()
	srv.Start()
	s.startDelivery()
}

// Stop takes the server down: the port refuses connections and long polls in
// flight end. Everything the server holds is kept for Start.
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	if srv != nil {
		close(s.stopped)
	}
	s.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// Start brings a stopped server back on the same address.
func (s *Server) Start() {
	s.tb.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment after Close
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.tb.Fatalf("fake Bot API cannot listen again on %s: %v", s.addr, err)
	}
	s.start(ln)
}

// AddUpdate queues an update for getUpdates, or for delivery to the
// webhook when one is set, and returns its id. In privacy mode (the
// default) a group message the bot would not receive is not queued and 0 is
// returned.
func (s *Server) AddUpdate(u tgbotapi.Update) int { return s.AddTopicUpdate(u, 0) }

// AddTopicUpdate is AddUpdate for a message written in a forum topic (or a
// button pressed on a message in one): the update carries
// message_thread_id and is_topic_message, which tgbotapi v5.5.1 lacks.
func (s *Server) AddTopicUpdate(u tgbotapi.Update, thread int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Message != nil && !s.receives(u.Message) {
		return 0
	}
	s.nextUpdate++
	u.UpdateID = s.nextUpdate
	s.updates = append(s.updates, stored{u: u, thread: thread})
	close(s.changed)
	s.changed = make(chan struct{})
	return u.UpdateID
}

// receives applies privacy mode (https://core.telegram.org/bots/features#privacy-mode):
// in groups a bot in privacy mode receives commands meant for it
// (/command@this_bot, and a bare /command when it was the last bot to send
// to the group), replies to its messages, and messages sent via it; not
// ordinary messages, even ones that @mention it (reported from real groups
// by telegraf #545 and others). s.mu is held.
func (s *Server) receives(m *tgbotapi.Message) bool {
	if !s.privacy || m.Chat == nil || (m.Chat.Type != "group" && m.Chat.Type != "supergroup") {
		return true
	}
	if m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && m.ReplyToMessage.From.ID == s.Me.ID {
		return true
	}
	if m.ViaBot != nil && m.ViaBot.ID == s.Me.ID {
		return true
	}
	if !strings.HasPrefix(m.Text, "/") {
		return false
	}
	word, _, _ := strings.Cut(strings.Fields(m.Text + " ")[0], "\n")
	if _, at, ok := strings.Cut(word, "@"); ok {
		return strings.EqualFold(at, s.Me.UserName)
	}
	return s.msgIDs[m.Chat.ID] > 0 // this bot was the last (the only) bot to send there
}

// SetPrivacy turns privacy mode off, as BotFather's /setprivacy does (or
// making the bot a group admin): the bot then receives every group message.
func (s *Server) SetPrivacy(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.privacy = on
}

// Message builds a text message from a person in a private chat whose id
// is also the person's id.
func Message(chatID int64, text string) tgbotapi.Update {
	return tgbotapi.Update{Message: &tgbotapi.Message{
		MessageID: int(messageIDs.Add(1)), Date: int(time.Now().Unix()),
		From: &tgbotapi.User{ID: chatID, FirstName: "Pat"},
		Chat: &tgbotapi.Chat{ID: chatID, Type: "private"},
		Text: text, Entities: commandEntity(text),
	}}
}

// GroupMessage builds a text message in a group chat (negative id).
func GroupMessage(chatID int64, from int64, text string) tgbotapi.Update {
	u := Message(chatID, text)
	u.Message.From = &tgbotapi.User{ID: from, FirstName: "Sam"}
	u.Message.Chat = &tgbotapi.Chat{ID: chatID, Type: "supergroup", Title: "Support group"}
	return u
}

// TopicMessage builds a text message in a forum topic of a supergroup; add
// it with AddTopicUpdate(u, thread).
func TopicMessage(chatID, from int64, text string) tgbotapi.Update {
	return GroupMessage(chatID, from, text) // v5.5.1's Chat has no is_forum
}

// Callback builds a button press on a message the bot sent to chatID.
func Callback(chatID int64, messageID int, data string) tgbotapi.Update {
	return tgbotapi.Update{CallbackQuery: &tgbotapi.CallbackQuery{
		ID: "cq" + strconv.FormatInt(messageIDs.Add(1), 10), Data: data,
		From:    &tgbotapi.User{ID: chatID, FirstName: "Pat"},
		Message: &tgbotapi.Message{MessageID: messageID, Chat: &tgbotapi.Chat{ID: chatID, Type: "private"}},
	}}
}

// GroupCallback builds a button press by person from on a message the bot
// sent to a group.
func GroupCallback(chatID, from int64, messageID int, data string) tgbotapi.Update {
	u := Callback(chatID, messageID, data)
	u.CallbackQuery.From = &tgbotapi.User{ID: from, FirstName: "Sam"}
	u.CallbackQuery.Message.Chat = &tgbotapi.Chat{ID: chatID, Type: "supergroup", Title: "Support group"}
	return u
}

// messageIDs numbers the people's messages and button presses.
var messageIDs atomic.Int64

// AddMessage queues a private text message and returns its update id.
func (s *Server) AddMessage(chatID int64, text string) int { return s.AddUpdate(Message(chatID, text)) }

// commandEntity marks a leading /command like Telegram does.
func commandEntity(text string) []tgbotapi.MessageEntity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	n := strings.IndexAny(text, " \n")
	if n < 0 {
		n = len(text)
	}
	return []tgbotapi.MessageEntity{{Type: "bot_command", Offset: 0, Length: len(utf16.Encode([]rune(text[:n])))}}
}

// Sent lists the messages the bot sent, in the order they arrived.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SentTo lists the messages sent to one chat.
func (s *Server) SentTo(chatID int64) []Sent {
	var out []Sent
	for _, m := range s.Sent() {
		if m.ChatID == chatID {
			out = append(out, m)
		}
	}
	return out
}

// WaitSent waits until at least n messages were sent, and fails the test
// after timeout.
func (s *Server) WaitSent(n int, timeout time.Duration) []Sent {
	s.tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, ch := len(s.sent), s.sentCh
		s.mu.Unlock()
		if got >= n {
			return s.Sent()
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.tb.Fatalf("waited %v for %d messages, got %d", timeout, n, got)
			return nil
		}
	}
}

// WaitCalls waits until method was called at least n times.
func (s *Server) WaitCalls(method string, n int, timeout time.Duration) {
	s.tb.Helper()
	end := time.Now().Add(timeout)
	for s.Calls(method) < n {
		if time.Now().After(end) {
			s.tb.Fatalf("waited %v for %d %s calls, got %d", timeout, n, method, s.Calls(method))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Confirmed is the highest offset the bot confirmed: every update below it
// is gone from the server.
func (s *Server) Confirmed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Pending counts the updates not yet confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates)
}

// Calls counts the requests for a method, including refused ones.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// CallTimes lists when each call of method arrived.
func (s *Server) CallTimes(method string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.callTimes[method]...)
}

// CallbackAnswers lists the answerCallbackQuery calls.
func (s *Server) CallbackAnswers() []CallbackAnswer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CallbackAnswer(nil), s.answers...)
}

// Edits lists the editMessageReplyMarkup calls.
func (s *Server) Edits() []Edit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Edit(nil), s.edits...)
}

// Conflicts counts the getUpdates calls ended with a 409 because another
// one came in.
func (s *Server) Conflicts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conflicts
}

// Deliveries counts the webhook requests made for an update.
func (s *Server) Deliveries(updateID int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveries[updateID]
}

// DeliverTo makes webhook deliveries go to url instead of the registered
// one. Without it the fake delivers only to a registered URL on 127.0.0.1
// or localhost: tests never reach the internet.
func (s *Server) DeliverTo(url string) {
	s.mu.Lock()
	s.deliverTo = url
	s.mu.Unlock()
	s.startDelivery()
}

// Commands is the command menu the bot registered.
func (s *Server) Commands() []tgbotapi.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tgbotapi.BotCommand(nil), s.commands...)
}

// Webhook is the URL and secret token the bot registered.
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL, s.webhookSec
}

// Fail makes the next n calls of method answer with an API error.
func (s *Server) Fail(method string, n, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.fail[method] = append(s.fail[method], failure{code: code, desc: description})
	}
}

// TooMany makes the next n calls of method answer 429 with retry_after.
func (s *Server) TooMany(method string, n, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.fail[method] = append(s.fail[method], failure{code: 429, desc: "Too Many Requests: retry after " + strconv.Itoa(retryAfter), retryAfter: retryAfter})
	}
}

// Drop makes the next n calls of method lose their connection before the
// server acts on them: the client sees a transport error.
func (s *Server) Drop(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop[method] += n
}

// IgnoreTimeout makes getUpdates answer at once even when empty, like some
// emulators do, to check that a client does not spin.
func (s *Server) IgnoreTimeout(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreWait = on
}

// SetLimits turns Telegram's send limits on.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.RetryAfter == 0 {
		l.RetryAfter = 1
	}
	s.limits = &l
}

// Violations lists the sends refused for breaking the limits.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// RateLimited counts the 429 answers given, for any reason.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tooMany
}

// PostWebhook delivers an update to url the way Telegram does, with the
// secret token header (omitted when empty), and returns the status code.
func PostWebhook(url, secret string, u tgbotapi.Update) (int, error) {
	body, err := json.Marshal(u)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

type response struct {
	Ok          bool                         `json:"ok"`
	Result      any                          `json:"result,omitempty"`
	ErrorCode   int                          `json:"error_code,omitempty"`
	Description string                       `json:"description,omitempty"`
	Parameters  *tgbotapi.ResponseParameters `json:"parameters,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	// /bot<token>/<method>
	path := strings.TrimPrefix(r.URL.Path, "/")
	tok, method, ok := strings.Cut(path, "/")
	if !ok || !strings.HasPrefix(tok, "bot") {
		writeJSON(w, 404, response{ErrorCode: 404, Description: "Not Found"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: cannot parse form"})
		return
	}
	s.mu.Lock()
	s.calls[method]++
	s.callTimes[method] = append(s.callTimes[method], time.Now())
	if s.drop[method] > 0 {
		s.drop[method]--
		s.mu.Unlock()
		hijackClose(w)
		return
	}
	if strings.TrimPrefix(tok, "bot") != s.Token {
		s.mu.Unlock()
		writeJSON(w, 401, response{ErrorCode: 401, Description: "Unauthorized"})
		return
	}
	if fs := s.fail[method]; len(fs) > 0 {
		f := fs[0]
		s.fail[method] = fs[1:]
		if f.code == 429 {
			s.tooMany++
		}
		s.mu.Unlock()
		resp := response{ErrorCode: f.code, Description: f.desc}
		if f.retryAfter > 0 {
			resp.Parameters = &tgbotapi.ResponseParameters{RetryAfter: f.retryAfter}
		}
		writeJSON(w, f.code, resp)
		return
	}
	s.mu.Unlock()

	switch method {
	case "getMe":
		ok200(w, s.Me)
	case "getUpdates":
		s.getUpdates(w, r)
	case "sendMessage":
		s.sendMessage(w, r)
	case "answerCallbackQuery":
		s.mu.Lock()
		s.answers = append(s.answers, CallbackAnswer{ID: r.Form.Get("callback_query_id"), Text: r.Form.Get("text")})
		s.mu.Unlock()
		ok200(w, true)
	case "setMyCommands":
		var cmds []tgbotapi.BotCommand
		if err := json.Unmarshal([]byte(r.Form.Get("commands")), &cmds); err != nil {
			writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: can't parse commands JSON object"})
			return
		}
		s.mu.Lock()
		s.commands = cmds
		s.mu.Unlock()
		ok200(w, true)
	case "setWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookSec = r.Form.Get("url"), r.Form.Get("secret_token")
		// https://core.telegram.org/bots/api#setwebhook: max_connections
		// 1-100, default 40
		if n, err := strconv.Atoi(r.Form.Get("max_connections")); err == nil && n >= 1 && n <= 100 {
			s.maxConn = n
		} else {
			s.maxConn = 40
		}
		s.mu.Unlock()
		s.startDelivery()
		ok200(w, true)
	case "editMessageReplyMarkup":
		chatID, _ := strconv.ParseInt(r.Form.Get("chat_id"), 10, 64)
		msgID, _ := strconv.Atoi(r.Form.Get("message_id"))
		var markup *tgbotapi.InlineKeyboardMarkup
		if m := r.Form.Get("reply_markup"); m != "" {
			markup = &tgbotapi.InlineKeyboardMarkup{}
			if err := json.Unmarshal([]byte(m), markup); err != nil {
				writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: can't parse reply keyboard markup JSON object"})
				return
			}
		}
		s.mu.Lock()
		s.edits = append(s.edits, Edit{ChatID: chatID, MessageID: msgID, Markup: markup})
		s.mu.Unlock()
		ok200(w, true)
	case "deleteWebhook":
		s.mu.Lock()
		s.webhookURL, s.webhookSec = "", ""
		if r.Form.Get("drop_pending_updates") == "true" {
			s.updates = nil
		}
		s.mu.Unlock()
		ok200(w, true)
	default:
		writeJSON(w, 404, response{ErrorCode: 404, Description: "Not Found: method not found"})
	}
}

// getUpdates follows https://core.telegram.org/bots/api#getupdates: at
// most limit (1-100, default 100) updates from offset on, an offset
// confirming every update below it, a wait of up to timeout seconds when
// there are none, and a 409 while a webhook is set. A second getUpdates
// while one is waiting ends the earlier with "Conflict: terminated by other
// getUpdates request; make sure that only one bot instance is running", as
// Telegram does when two instances poll with one token.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request) {
	offset, _ := strconv.Atoi(r.Form.Get("offset"))
	timeout, _ := strconv.Atoi(r.Form.Get("timeout"))
	limit, _ := strconv.Atoi(r.Form.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	var wait <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(time.Duration(timeout) * time.Second)
		defer t.Stop()
		wait = t.C
	}
	s.mu.Lock()
	if s.poll != nil {
		close(s.poll) // the earlier request ends with a 409
	}
	mine := make(chan struct{})
	s.poll = mine
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.poll == mine {
			s.poll = nil
		}
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		if s.webhookURL != "" {
			s.mu.Unlock()
			writeJSON(w, 409, response{ErrorCode: 409, Description: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return
		}
		if offset > 0 {
			s.confirm(offset)
		}
		var out []json.RawMessage
		for _, u := range s.updates {
			if len(out) == limit {
				break
			}
			out = append(out, encode(u))
		}
		changed, stopped, ignore := s.changed, s.stopped, s.ignoreWait
		s.mu.Unlock()
		if len(out) > 0 || wait == nil || ignore {
			if out == nil {
				out = []json.RawMessage{}
			}
			ok200(w, out)
			return
		}
		select {
		case <-changed:
		case <-wait:
			wait = nil
		case <-mine:
			s.mu.Lock()
			s.conflicts++
			s.mu.Unlock()
			writeJSON(w, 409, response{ErrorCode: 409, Description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})
			return
		case <-stopped:
			hijackClose(w)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// confirm forgets the updates below offset. s.mu is held.
func (s *Server) confirm(offset int) {
	keep := s.updates[:0]
	for _, u := range s.updates {
		if u.u.UpdateID >= offset {
			keep = append(keep, u)
		}
	}
	clear(s.updates[len(keep):])
	s.updates = keep
	if offset > s.confirmed {
		s.confirmed = offset
	}
}

// encode is an update as Telegram sends it, with message_thread_id and
// is_topic_message for messages in forum topics
// (https://core.telegram.org/bots/api#message).
func encode(st stored) json.RawMessage {
	raw, _ := json.Marshal(st.u)
	if st.thread == 0 {
		return raw
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	put := func(msg any) {
		if mm, ok := msg.(map[string]any); ok {
			mm["message_thread_id"] = st.thread
			mm["is_topic_message"] = true
		}
	}
	put(m["message"])
	if cq, ok := m["callback_query"].(map[string]any); ok {
		put(cq["message"])
	}
	raw, _ = json.Marshal(m)
	return raw
}

// startDelivery runs the webhook deliverer while a webhook is set.
func (s *Server) startDelivery() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.delivererOn || s.srv == nil || s.target() == "" {
		return
	}
	s.delivererOn = true
	go s.deliver(s.stopped)
}

// target is where webhook requests go, or "". s.mu is held.
func (s *Server) target() string {
	if s.webhookURL == "" {
		return ""
	}
	if s.deliverTo != "" {
		return s.deliverTo
	}
	if strings.HasPrefix(s.webhookURL, "http://127.0.0.1:") || strings.HasPrefix(s.webhookURL, "http://localhost:") {
		return s.webhookURL
	}
	return ""
}

// deliver posts updates to the webhook as Telegram does
// (https://core.telegram.org/bots/api#setwebhook): each update in its own
// request with the secret token header, up to max_connections at once, and
// again later whenever a request was not answered 2xx ("in case of an
// unsuccessful request, we will give up after a reasonable amount of
// attempts"; this fake never gives up). An update answered 2xx is gone.
func (s *Server) deliver(stopped chan struct{}) {
	client := &http.Client{Timeout: 2 * time.Minute}
	defer func() {
		s.mu.Lock()
		s.delivererOn = false
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		url, secret := s.target(), s.webhookSec
		if url == "" {
			s.mu.Unlock()
			return
		}
		now := time.Now()
		next := now.Add(time.Second)
		busy := 0
		for id := range s.delivering {
			if s.delivering[id] {
				busy++
			}
		}
		for _, st := range s.updates {
			id := st.u.UpdateID
			if busy >= s.maxConn {
				break
			}
			if s.delivering[id] {
				continue
			}
			if at, ok := s.retryAt[id]; ok && at.After(now) {
				if at.Before(next) {
					next = at
				}
				continue
			}
			busy++
			s.delivering[id] = true
			s.deliveries[id]++
			go s.post(client, url, secret, st)
		}
		changed := s.changed
		s.mu.Unlock()
		t := time.NewTimer(time.Until(next))
		select {
		case <-stopped:
			t.Stop()
			return
		case <-changed:
		case <-t.C:
		}
		t.Stop()
	}
}

func (s *Server) post(client *http.Client, url, secret string, st stored) {
	id := st.u.UpdateID
	ok := false
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(string(encode(st))))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			ok = resp.StatusCode >= 200 && resp.StatusCode < 300
			resp.Body.Close()
		}
	}
	s.mu.Lock()
	delete(s.delivering, id)
	if ok {
		delete(s.retryAt, id)
		keep := s.updates[:0]
		for _, u := range s.updates {
			if u.u.UpdateID != id {
				keep = append(keep, u)
			}
		}
		clear(s.updates[len(keep):])
		s.updates = keep
	} else {
		s.retryAt[id] = time.Now().Add(s.redeliver)
	}
	close(s.changed) // wake the deliverer
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	chatID, err := strconv.ParseInt(r.Form.Get("chat_id"), 10, 64)
	if err != nil {
		writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: chat not found"})
		return
	}
	text := r.Form.Get("text")
	mode := r.Form.Get("parse_mode")
	plain := text
	if mode == tgbotapi.ModeHTML {
		p, err := ParseHTML(text)
		if err != nil {
			writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: can't parse entities: " + err.Error()})
			return
		}
		plain = p
	}
	switch n := len(utf16.Encode([]rune(strings.TrimSpace(plain)))); {
	case n == 0:
		writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: message text is empty"})
		return
	case n > 4096:
		writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: message is too long"})
		return
	}
	var markup *tgbotapi.InlineKeyboardMarkup
	if m := r.Form.Get("reply_markup"); m != "" {
		markup = &tgbotapi.InlineKeyboardMarkup{}
		if err := json.Unmarshal([]byte(m), markup); err != nil {
			writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: can't parse reply keyboard markup JSON object"})
			return
		}
		for _, row := range markup.InlineKeyboard {
			for _, b := range row {
				if b.Text == "" {
					writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: text buttons are unallowed in the inline keyboard"})
					return
				}
				if b.CallbackData != nil && (len(*b.CallbackData) == 0 || len(*b.CallbackData) > 64) {
					writeJSON(w, 400, response{ErrorCode: 400, Description: "Bad Request: BUTTON_DATA_INVALID"})
					return
				}
			}
		}
	}
	replyTo, _ := strconv.Atoi(r.Form.Get("reply_to_message_id"))
	thread, _ := strconv.Atoi(r.Form.Get("message_thread_id"))

	s.mu.Lock()
	if v := s.checkLimits(chatID, now); v != "" {
		s.violations = append(s.violations, v)
		s.tooMany++
		ra := s.limits.RetryAfter
		s.mu.Unlock()
		writeJSON(w, 429, response{ErrorCode: 429, Description: "Too Many Requests: retry after " + strconv.Itoa(ra),
			Parameters: &tgbotapi.ResponseParameters{RetryAfter: ra}})
		return
	}
	s.msgIDs[chatID]++
	m := Sent{ChatID: chatID, Thread: thread, MessageID: s.msgIDs[chatID], Text: text, ParseMode: mode, ReplyTo: replyTo, Markup: markup, At: now}
	s.sent = append(s.sent, m)
	close(s.sentCh)
	s.sentCh = make(chan struct{})
	s.mu.Unlock()
	ok200(w, tgbotapi.Message{MessageID: m.MessageID, Date: int(now.Unix()), Chat: &tgbotapi.Chat{ID: chatID}, Text: plain})
}

// checkLimits says how a send at now would break the limits, or "". It
// records the send when it is allowed. s.mu is held.
func (s *Server) checkLimits(chatID int64, now time.Time) string {
	l := s.limits
	if l == nil {
		return ""
	}
	interval := l.ChatInterval
	if chatID < 0 && l.GroupInterval > interval {
		interval = l.GroupInterval
	}
	if last, ok := s.lastChat[chatID]; ok && interval > 0 && now.Sub(last) < interval-l.Slack {
		return fmt.Sprintf("chat %d: %v since the last message, limit %v", chatID, now.Sub(last).Round(time.Millisecond), interval)
	}
	if l.GlobalMax > 0 {
		keep := s.recentSends[:0]
		for _, t := range s.recentSends {
			if now.Sub(t) < l.GlobalWindow {
				keep = append(keep, t)
			}
		}
		s.recentSends = keep
		if len(keep) >= l.GlobalMax {
			return fmt.Sprintf("%d messages in %v, limit %d", len(keep)+1, l.GlobalWindow, l.GlobalMax)
		}
		s.recentSends = append(s.recentSends, now)
	}
	s.lastChat[chatID] = now
	return ""
}

// parseHTML checks text the way Telegram's HTML parse mode does for the tags
// and entities it supports, and returns the text a person would read.
func ParseHTML(s string) (string, error) {
	allowed := map[string]bool{"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true, "s": true,
		"strike": true, "del": true, "a": true, "code": true, "pre": true, "span": true, "tg-spoiler": true, "blockquote": true}
	var out strings.Builder
	var stack []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			closing := strings.HasPrefix(tag, "/")
			fields := strings.Fields(strings.TrimPrefix(tag, "/"))
			if len(fields) == 0 {
				return "", fmt.Errorf("empty tag at byte offset %d", i)
			}
			name := strings.ToLower(fields[0])
			if !allowed[name] {
				return "", fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
			}
			if closing {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("unmatched end tag at byte offset %d, expected \"</%s>\"", i, last(stack))
				}
				stack = stack[:len(stack)-1]
			} else {
				stack = append(stack, name)
			}
			i += end + 1
		case '&':
			end := strings.IndexByte(s[i:], ';')
			if end < 0 || end > 10 {
				return "", fmt.Errorf("unclosed entity at byte offset %d", i)
			}
			ent := s[i+1 : i+end]
			switch {
			case ent == "lt":
				out.WriteByte('<')
			case ent == "gt":
				out.WriteByte('>')
			case ent == "amp":
				out.WriteByte('&')
			case ent == "quot":
				out.WriteByte('"')
			case strings.HasPrefix(ent, "#"):
				n, err := strconv.Atoi(strings.TrimPrefix(ent, "#"))
				if err != nil {
					return "", fmt.Errorf("bad numeric entity at byte offset %d", i)
				}
				out.WriteRune(rune(n))
			default:
				return "", fmt.Errorf("unsupported entity at byte offset %d", i)
			}
			i += end + 1
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("can't find end tag corresponding to start tag %q", stack[len(stack)-1])
	}
	return out.String(), nil
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// hijackClose drops the connection without an answer.
func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(errors.New("fake Bot API: cannot hijack the connection"))
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		conn.Close()
	}
}

func ok200(w http.ResponseWriter, result any) { writeJSON(w, 200, response{Ok: true, Result: result}) }

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
