package telegram

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf16"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/bots/telegram/telegramtest"
	"github.com/kratombot/kratombot/knowledge"
	"golang.org/x/time/rate"
)

const longID = "emoji-heavy-answer-with-an-identifier-long-enough-to-pass-sixty-four-bytes"

func TestHTMLFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a & b", "a &amp; b"},
		{"<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"},
		{"&amp;", "&amp;amp;"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{`quotes "stay" 'as' they are`, `quotes "stay" 'as' they are`},
	}
	for _, tc := range tests {
		got := htmlFormat{}.Escape(tc.in)
		if got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if p, err := telegramtest.ParseHTML(got); err != nil || p != strings.ToValidUTF8(tc.in, "\uFFFD") {
			t.Errorf("Telegram reads %q as %q (%v)", got, p, err)
		}
		if back := plainText(got); back != strings.ToValidUTF8(tc.in, "\uFFFD") {
			t.Errorf("plainText(%q) = %q", got, back)
		}
	}
}

func TestWellFormed(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"<b>a &amp; b</b>\n\nc &lt; d", true},
		{"<b>unclosed", false},
		{"cut &am", false},
		{"cut &amp", false},
		{"</b>", false},
		{"<b><b>x</b></b>", false},
		{"raw < sign", false},
		{"raw > sign", false},
		{"", true},
	}
	for _, tc := range tests {
		if got := wellFormed(tc.s); got != tc.want {
			t.Errorf("wellFormed(%q) = %v", tc.s, got)
		}
	}
}

// Every rendered part must be accepted by Telegram: valid HTML, at most 4096
// UTF-16 units once parsed, referral in the last.
func TestRenderFitsTelegram(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	for _, id := range []string{"welcome", "help", "aches", longID, "crisis", "resources", "sleep"} {
		t.Run(id, func(t *testing.T) {
			r, err := e.Open(ctx, id, "")
			if err != nil {
				t.Fatal(err)
			}
			parts, mode := render(r)
			if mode != "HTML" {
				t.Errorf("mode %q", mode)
			}
			for i, p := range parts {
				text, err := telegramtest.ParseHTML(p)
				if err != nil {
					t.Fatalf("part %d: %v", i, err)
				}
				if n := len(utf16.Encode([]rune(text))); n > maxMessage {
					t.Errorf("part %d is %d UTF-16 units", i, n)
				}
			}
			if !strings.Contains(plainText(parts[len(parts)-1]), "Get help") {
				t.Errorf("no referral in the last part")
			}
		})
	}
	// 3000 emoji are 3000 characters but 6000 UTF-16 units: two messages at least
	r, _ := e.Open(ctx, longID, "")
	if parts, _ := render(r); len(parts) < 2 {
		t.Errorf("an emoji-heavy answer went in %d message", len(parts))
	}
}

func TestKeyboard(t *testing.T) {
	e := engine(t)
	ctx := context.Background()
	b := &Bot{cfg: Config{Feedback: true}}
	r, _ := e.Open(ctx, "aches", "")
	kb := b.keyboard(r)
	var data []string
	for _, row := range kb.InlineKeyboard {
		for _, btn := range row {
			data = append(data, *btn.CallbackData)
			if len(*btn.CallbackData) > maxCallbackData {
				t.Errorf("callback data %q is over 64 bytes", *btn.CallbackData)
			}
		}
	}
	if got := strings.Join(data, " "); got != "o:sleep h:y:aches h:n:aches" {
		t.Errorf("buttons = %s; want the related topic whose data fits, then feedback", got)
	}
	// a topic whose id is too long for feedback data gets none
	r, _ = e.Open(ctx, longID, "")
	if kb := b.keyboard(r); kb != nil {
		t.Errorf("buttons for a topic whose data cannot fit: %+v", kb)
	}
	// labels stay short
	if l := buttonLabel(strings.Repeat("word ", 40)); len([]rune(l)) > 60 || !strings.HasSuffix(l, "…") {
		t.Errorf("label %q", l)
	}
}

func TestTracker(t *testing.T) {
	tests := []struct {
		name     string
		take     []int
		finish   []int
		offset   int
		retaken  int
		reTakeOK bool
	}{
		{"nothing yet", nil, nil, 0, 5, true},
		{"all finished", []int{5, 6, 7}, []int{5, 6, 7}, 8, 7, false},
		{"first still running", []int{5, 6, 7}, []int{6, 7}, 5, 6, false},
		{"gap", []int{5, 6, 9}, []int{5, 9}, 6, 10, true},
		{"out of order", []int{1, 2, 3, 4}, []int{4, 3, 1, 2}, 5, 4, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker()
			for _, id := range tc.take {
				if !tr.take(id) {
					t.Fatalf("take(%d) refused a new id", id)
				}
			}
			moved := tr.moved()
			for _, id := range tc.finish {
				tr.finish(id)
			}
			if got := tr.offset(); got != tc.offset {
				t.Errorf("offset = %d, want %d", got, tc.offset)
			}
			if got := tr.take(tc.retaken); got != tc.reTakeOK {
				t.Errorf("take(%d) = %v", tc.retaken, got)
			}
			select {
			case <-moved:
				if len(tc.finish) == 0 || tc.offset == tc.take[0] {
					t.Errorf("moved fired without progress")
				}
			default:
				if len(tc.finish) > 0 && tc.offset != tc.take[0] {
					t.Errorf("moved did not fire")
				}
			}
		})
	}
}

func TestDispatcherKeepsOrderAndForgetsIdleChats(t *testing.T) {
	b := &Bot{cfg: Config{Limits: Limits{Global: 1000, ChatInterval: 20 * time.Millisecond, GroupInterval: 50 * time.Millisecond}.withDefaults()}}
	var seen chanLog
	d := newDispatcher(100, b.newChat, func(ctx context.Context, c *chat, j job) bool {
		seen.add(c.id, j.u.UpdateID)
		return true
	})
	d.start(context.Background())
	var finished atomic.Int32
	for i := 1; i <= 30; i++ {
		u := telegramtest.Message(int64(i%3), "x")
		u.UpdateID = i
		if d.push(int64(i%3), i%3 == 2, job{u: incoming{Update: u}, done: func(bool) { finished.Add(1) }}) != queued {
			t.Fatal("push refused before close")
		}
	}
	d.wait()
	if finished.Load() != 30 {
		t.Errorf("%d done callbacks, want 30", finished.Load())
	}
	for chat, ids := range seen.byChat() {
		for i := 1; i < len(ids); i++ {
			if ids[i] < ids[i-1] {
				t.Errorf("chat %d handled %v out of order", chat, ids)
			}
		}
	}
	// limiters were not used, so every chat is idle and gone already
	if n := d.sweep(time.Now()); n != 0 {
		t.Errorf("%d chats kept after their work", n)
	}
	// a chat that just sent keeps its limiter until it is full again
	c := b.newChat(-5, true)
	_ = c.wait(context.Background(), newGate(rate.Inf, 1))
	d.mu.Lock()
	d.chats[-5] = c
	d.mu.Unlock()
	if n := d.sweep(time.Now()); n != 1 {
		t.Errorf("a chat that just sent was forgotten")
	}
	if n := d.sweep(time.Now().Add(time.Second)); n != 0 {
		t.Errorf("an idle chat was kept")
	}
	d.close()
	if d.push(1, false, job{}) != refused {
		t.Error("push accepted after close")
	}
}

func TestRecentIDs(t *testing.T) {
	r := newRecentIDs(3)
	for _, id := range []int{1, 2, 3} {
		if !r.add(id) {
			t.Fatalf("add(%d) refused", id)
		}
	}
	if r.add(2) {
		t.Error("a repeat was accepted")
	}
	r.add(4) // pushes 1 out
	if !r.add(1) {
		t.Error("an id long gone was refused")
	}
	if !r.has(4) || r.has(2) {
		t.Error("has does not match what was added")
	}
}

// Every topic of the shipped knowledge, asked for through Telegram, comes
// back as messages Telegram accepts with the referral in the last.
func TestShippedKnowledgeEveryTopicCarriesReferral(t *testing.T) {
	kb, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatalf("the shipped knowledge does not load: %v", err)
	}
	e, err := bots.New(kb)
	if err != nil {
		t.Fatal(err)
	}
	h := run(t, func(c *Config, d *Deps) {
		d.Engine = e
		c.MaxQueued = 20 // chat 9999 sends every command at once
	})
	for i, topic := range kb.Topics {
		if len("h:y:"+topic.ID) > maxCallbackData {
			t.Errorf("topic id %q is too long for a Telegram button (64 bytes with its prefix)", topic.ID)
		}
		h.fake.AddUpdate(telegramtest.Callback(int64(i+1), 1, "o:"+topic.ID))
	}
	for i, r := range kb.Regions {
		h.fake.AddUpdate(telegramtest.Callback(int64(5000+i), 1, "o:region:"+r.Code))
	}
	for _, cmd := range []string{"/start", "/help", "/symptoms", "/treatment", "/faq", "/resources", "/crisis", "/privacy", "/region"} {
		h.fake.AddMessage(9999, cmd)
	}
	for i, topic := range kb.Topics {
		p := waitReply(t, h.fake, int64(i+1), 1)
		if !strings.Contains(p, topic.Title) || !strings.Contains(p, "Get help") {
			t.Errorf("topic %s: reply\n%s", topic.ID, p)
		}
	}
	for i, r := range kb.Regions {
		p := waitReply(t, h.fake, int64(5000+i), 1)
		if !strings.Contains(p, r.Name) || !strings.Contains(p, "Get help") {
			t.Errorf("region %s: reply\n%s", r.Code, p)
		}
	}
	waitReply(t, h.fake, 9999, 9)
}

// chanLog records which updates each chat handled, in order.
type chanLog struct {
	mu  sync.Mutex
	ids map[int64][]int
}

func (l *chanLog) add(chat int64, id int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids == nil {
		l.ids = map[int64][]int{}
	}
	l.ids[chat] = append(l.ids[chat], id)
}

func (l *chanLog) byChat() map[int64][]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ids
}

// FuzzSplitAgain: a message Telegram found too long splits into two
// non-empty halves that keep every word, and HTML halves Telegram can parse.
//
//	go test -run '^$' -fuzz '^FuzzSplitAgain$' -fuzztime 30s ./bots/telegram
func FuzzSplitAgain(f *testing.F) {
	f.Add("<b>Title &amp; more</b>\n\nFirst paragraph.\n\nSecond one &lt;here&gt;.", true)
	f.Add("one two", false)
	f.Add("<b>a</b>", true)
	f.Add("x", false)
	f.Add("😀😀😀 \n\n", false)
	f.Fuzz(func(t *testing.T, text string, html bool) {
		mode := ""
		if html {
			text = htmlFormat{}.Escape(text)
			mode = tgbotapi.ModeHTML
		}
		halves := splitAgain(text, mode)
		if halves == nil {
			return // too short to split: the caller gives up on it
		}
		if len(halves) != 2 || strings.TrimSpace(halves[0]) == "" || strings.TrimSpace(halves[1]) == "" {
			t.Fatalf("halves %q", halves)
		}
		read := func(s string) string {
			if html {
				p, err := telegramtest.ParseHTML(s)
				if err != nil {
					t.Fatalf("half %q does not parse: %v", s, err)
				}
				return p
			}
			return s
		}
		if got, want := strings.Fields(read(halves[0])+" "+read(halves[1])), strings.Fields(read(text)); strings.Join(got, "") != strings.Join(want, "") {
			t.Fatalf("words changed:\n%q\n%q", got, want)
		}
	})
}
