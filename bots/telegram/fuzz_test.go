package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
)

// Fuzz tests for the Telegram adapter. Run one for a while with
//
//	go test -run '^$' -fuzz '^FuzzTelegramText$' -fuzztime 60s ./bots/telegram
//
// Without -fuzz only the seeds run, as ordinary quick tests.

// fuzzSeeds are inputs people send, or could: empty, invalid UTF-8,
// control and zero-width characters, markup, emoji, RTL marks, crisis words
// and commands. Long ones come from longPad.
var fuzzSeeds = []string{
	"",
	" \t\n ",
	"I cant sleep since quitting",
	"i want to die",
	"my friend took an overdose and is not breathing",
	"how much kratom should i take",
	"<b>bold</b> & <i>it</i> &amp; &lt; &#60; &unknown; <script>alert(1)</script>",
	"*bold* _it_ `code` ~s~ ||spoiler|| [link](https://example.org)",
	"\x00\x01\x1b[31m\x7f\xff\xfe\x80sleep\xc0\xaf",
	"\u202e\u200b\u200c\u200d\u2066\ufeff ｓｌｅｅｐ \u0301",
	"مرحبا \u200f كيف \u200e sleep",
	strings.Repeat("\U0001F600", 20) + "\U0001F3F3\uFE0F\u200D\U0001F308",
	strings.Repeat("&<>", 20),
	"/start",
	"/help@kratomhelp_bot",
	"/help@otherbot",
	"/region uk",
	"/region\nUnited Kingdom",
	"/restless_legs",
	"/crisis kill myself",
	"/@@@ x",
	"/",
	"@kratomhelp_bot",
}

// longPad goes before the text in the long variant of each input: past
// what the engine reads for topics (bots.MaxQuestion), where crisis words
// must still be found. Padding rather than long seeds keeps the corpus
// small: the fuzzer minimises every new find, in time quadratic in its
// length, and a long one holds a worker up for the whole run.
var longPad = strings.Repeat("i feel awful and cannot sleep ", 36)

// How a fuzzed text reaches the bot. The byte that picks one also picks,
// above viaCount, the long variant.
const (
	viaPrivate = iota // a private message
	viaCaption        // the caption of a photo in a private chat
	viaMention        // a group message addressed to the bot with @name
	viaReply          // a group message answering one of the bot's
	viaButton         // a button press whose data is "o:<text>"
	viaCount
)

// sentMsg is one sendMessage call as it went over the wire.
type sentMsg struct {
	text, mode, markup string
}

// wireAPI answers the Bot API calls a reply makes in-process: a fuzzer
// needs thousands of inputs a second, and with telegramtest's server over
// TCP it managed about 750 a worker and spent whole runs minimising one find. The requests
// are still made by the real client and read back from the wire, and the
// same calls against telegramtest's server are covered by telegram_test.go.
type wireAPI struct {
	mu   sync.Mutex
	sent map[string][]sentMsg // by chat_id
}

func (a *wireAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	result := "true"
	switch path.Base(r.URL.Path) {
	case "sendMessage":
		a.mu.Lock()
		chat := form.Get("chat_id")
		a.sent[chat] = append(a.sent[chat], sentMsg{text: form.Get("text"), mode: form.Get("parse_mode"), markup: form.Get("reply_markup")})
		n := len(a.sent[chat])
		a.mu.Unlock()
		result = `{"message_id":` + strconv.Itoa(n) + `,"date":0,"chat":{"id":` + chat + `,"type":"private"}}`
	case "answerCallbackQuery":
	default:
		return nil, fmt.Errorf("unexpected Bot API call %s", path.Base(r.URL.Path))
	}
	return &http.Response{
		StatusCode: http.StatusOK, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(strings.NewReader(`{"ok":true,"result":` + result + `}`)),
		Request: r,
	}, nil
}

// take returns and forgets what was sent to a chat.
func (a *wireAPI) take(chat int64) []sentMsg {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := strconv.FormatInt(chat, 10)
	m := a.sent[k]
	delete(a.sent, k)
	return m
}

// fuzzBot is a bot that is not running: each input goes straight to
// handleJob, the function the dispatcher runs for every update, which
// answers through the real Bot API client.
type fuzzBot struct {
	h            *harness
	api          *wireAPI
	usRef, ukRef []string // the treatment referral every reply ends with
	chats        atomic.Int64
}

func newFuzzBot(tb testing.TB) *fuzzBot {
	api := &wireAPI{sent: map[string][]sentMsg{}}
	h := newHarness(tb, nil, func(c *Config, d *Deps) {
		c.HTTPClient = &http.Client{Transport: api}
		// every input has a chat of its own: the limits only slow fuzzing
		c.Limits = Limits{Global: 1e6, GlobalBurst: 1000, ChatInterval: time.Nanosecond, ChatBurst: 100,
			GroupInterval: time.Nanosecond, GroupBurst: 100}
		d.Recorder = bots.Recorders{}
	})
	h.bot.self = tgbotapi.User{ID: 777000111, IsBot: true, FirstName: "Kratom Help", UserName: "kratomhelp_bot"} // as Run sets it
	ctx := context.Background()
	us, err := h.bot.eng.Open(ctx, "resources", "US")
	if err != nil {
		tb.Fatal(err)
	}
	uk, err := h.bot.eng.Open(ctx, "resources", "UK")
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzBot{h: h, api: api, usRef: us.Referral().Lines(), ukRef: uk.Referral().Lines()}
}

// logs returns and forgets what the bot logged.
func (fb *fuzzBot) logs() string {
	return fb.h.logs.Take()
}

// update builds the update that brings text to the bot by way of via, in a
// chat of its own, and says whether the bot must answer it.
func (fb *fuzzBot) update(text string, via int) (u tgbotapi.Update, chatID int64, group, answer bool) {
	chatID = fb.chats.Add(1)
	me := fb.h.bot.self
	// a command for another bot is the only message left unanswered
	forOther := func(s string) bool {
		_, _, isCmd, forUs := fb.h.bot.parseCommand(s)
		return isCmd && !forUs
	}
	switch via {
	case viaPrivate:
		return telegramtest.Message(chatID, text), chatID, false, !forOther(text)
	case viaCaption:
		u = telegramtest.Message(chatID, "")
		u.Message.Caption = text
		return u, chatID, false, !forOther(text)
	case viaMention:
		chatID = -chatID
		return telegramtest.GroupMessage(chatID, 8, "@"+me.UserName+" "+text), chatID, true, true
	case viaReply:
		chatID = -chatID
		u = telegramtest.GroupMessage(chatID, 8, text)
		u.Message.ReplyToMessage = &tgbotapi.Message{MessageID: 1, From: &me, Chat: u.Message.Chat}
		return u, chatID, true, !forOther(text)
	default:
		return telegramtest.Callback(chatID, 1, "o:"+text), chatID, false, text != ""
	}
}

// FuzzTelegramText sends arbitrary text through the adapter's handling
// path. Whatever it is, the bot must not panic, and every reply must be
// messages Telegram accepts: at most 4096 UTF-16 units, valid UTF-8, HTML
// holding only whole <b> pairs and escaped & < >, the referral in the last
// message and, in a crisis, the crisis line first.
func FuzzTelegramText(f *testing.F) {
	fb := newFuzzBot(f)
	for i, s := range fuzzSeeds {
		f.Add(s, uint8(i%viaCount))
	}
	f.Add("i want to die", uint8(viaCaption))
	f.Add("i want to die", uint8(viaCount+viaPrivate))
	f.Add("my friend is not breathing", uint8(viaCount+viaMention))
	f.Add("\U0001F600\u202e<b>&", uint8(viaCount+viaReply))
	f.Add("x", uint8(viaCount+viaButton))
	f.Add("/help", uint8(viaReply))
	f.Add("sleep", uint8(viaButton))
	f.Add("region:UK", uint8(viaButton))
	f.Add("help", uint8(viaButton))
	f.Fuzz(func(t *testing.T, text string, how uint8) {
		via := int(how) % viaCount
		if int(how)/viaCount%2 == 1 {
			text = longPad + text
		}
		u, chatID, group, answer := fb.update(text, via)
		fb.h.bot.handleJob(context.Background(), fb.h.bot.newChat(chatID, group), job{u: incoming{Update: u}, at: time.Now()})
		msgs := fb.api.take(chatID)

		logs := fb.logs()
		if strings.Contains(logs, "panic") {
			t.Fatalf("handling the update panicked:\n%s", logs)
		}
		if len(strings.TrimSpace(text)) >= 8 && strings.Contains(logs, text) {
			t.Errorf("what the person wrote was logged:\n%s", logs)
		}
		if !answer {
			if len(msgs) > 0 {
				t.Errorf("a command for another bot was answered: %q", msgs[0].text)
			}
			return
		}
		if len(msgs) == 0 {
			t.Fatalf("no reply; logs:\n%s", logs)
		}
		var read []string // what a person reads of each message
		for i, m := range msgs {
			checkMarkup(t, i, m.markup)
			if !utf8.ValidString(m.text) {
				t.Errorf("message %d is not valid UTF-8: %q", i, m.text)
			}
			p := m.text
			switch m.mode {
			case tgbotapi.ModeHTML:
				if !wellFormed(m.text) {
					t.Errorf("message %d holds markup the renderer does not make, or an unescaped & < >: %q", i, m.text)
				}
				var err error
				if p, err = telegramtest.ParseHTML(m.text); err != nil {
					t.Errorf("message %d is not valid Telegram HTML (%v): %q", i, err, m.text)
				}
			case "":
			default:
				t.Errorf("message %d has parse mode %q", i, m.mode)
			}
			if n := len(utf16.Encode([]rune(p))); n > maxMessage {
				t.Errorf("message %d is %d UTF-16 units, over %d", i, n, maxMessage)
			}
			if strings.TrimSpace(p) == "" {
				t.Errorf("message %d is empty", i)
			}
			read = append(read, p)
		}
		last := read[len(read)-1]
		if !containsAll(last, fb.usRef) && !containsAll(last, fb.ukRef) {
			t.Errorf("the last message lacks the referral:\n%s", last)
		}
		if via == viaPrivate || via == viaCaption {
			if _, _, isCmd, _ := fb.h.bot.parseCommand(text); !isCmd {
				r, err := fb.h.bot.eng.Answer(context.Background(), bots.Question{Text: text})
				if err != nil {
					t.Fatal(err)
				}
				if r.Kind() == bots.KindCrisis && !strings.HasPrefix(read[0], r.Lead()[0]) {
					t.Errorf("a crisis reply does not start with the crisis line %q:\n%s", r.Lead()[0], read[0])
				}
			}
		}
	})
}

// checkMarkup checks the buttons as Telegram does: each has a label and
// callback data of 1 to 64 bytes.
func checkMarkup(t *testing.T, i int, markup string) {
	t.Helper()
	if markup == "" {
		return
	}
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(markup), &kb); err != nil {
		t.Errorf("message %d: the buttons are not valid JSON (%v): %s", i, err, markup)
		return
	}
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.TrimSpace(b.Text) == "" || b.CallbackData == nil || len(*b.CallbackData) == 0 || len(*b.CallbackData) > maxCallbackData {
				t.Errorf("message %d: button %q with data %v", i, b.Text, b.CallbackData)
			}
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// FuzzHTMLEscape checks the escaper every text goes through: nothing it
// returns can be read as markup, and Telegram reads back exactly the text
// (invalid UTF-8 replaced, as Telegram refuses it).
func FuzzHTMLEscape(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("&amp;amp; &&& &lt &gt;; <<b>>")
	f.Add("</b><b>")
	f.Fuzz(func(t *testing.T, s string) {
		e := htmlFormat{}.Escape(s)
		if !utf8.ValidString(e) {
			t.Errorf("Escape(%q) is not valid UTF-8: %q", s, e)
		}
		for i := 0; i < len(e); i++ {
			switch e[i] {
			case '<', '>':
				t.Fatalf("Escape(%q) has a raw %q at byte %d: %q", s, e[i], i, e)
			case '&':
				if !strings.HasPrefix(e[i:], "&amp;") && !strings.HasPrefix(e[i:], "&lt;") && !strings.HasPrefix(e[i:], "&gt;") {
					t.Fatalf("Escape(%q) has an & that starts no entity at byte %d: %q", s, i, e)
				}
			}
		}
		if b := (htmlFormat{}).Bold(e); !wellFormed(e) || !wellFormed(b) {
			t.Errorf("Escape(%q) = %q is not well-formed alone or in bold", s, e)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if p, err := telegramtest.ParseHTML(e); err != nil || p != want {
			t.Errorf("Telegram reads Escape(%q) = %q as %q (%v)", s, e, p, err)
		}
		if p := plainText(e); p != want {
			t.Errorf("plainText(Escape(%q)) = %q", s, p)
		}
	})
}
