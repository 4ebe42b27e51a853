package bots

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAnswer holds the engine to its promises on any input: no panic, a
// known kind, valid UTF-8, and the referral in every message.
func FuzzAnswer(f *testing.F) {
	for _, s := range []string{"", "cant sleep since i quit", "i want to die", "rls", "\x00\xff", "in\u200bsomnia",
		"ｆｕｌｌｗｉｄｔｈ", "how much kratom", strings.Repeat("a", 5000), "\u202eevil", "7-oh", "hi!!!",
		"อยากตาย", "ก", "\u0e31\u0e48", strings.Repeat("ชัก", 2000), "kratomกระท่อม7oh", "我想死"} {
		f.Add(s, "US")
	}
	e := minimal(f)
	f.Fuzz(func(t *testing.T, text, region string) {
		r, err := e.Answer(context.Background(), Question{Text: text, Region: region})
		if err != nil {
			t.Fatal(err)
		}
		switch r.Kind() {
		case KindAnswer, KindCrisis, KindFallback:
		default:
			t.Fatalf("unknown kind %q", r.Kind())
		}
		ref := r.Referral().Text()
		msgs := r.Messages(500, Plain{})
		if !strings.Contains(msgs[len(msgs)-1], ref) {
			t.Fatalf("no referral in the last message for %q", text)
		}
		for _, m := range msgs {
			if !utf8.ValidString(m) {
				t.Fatalf("invalid UTF-8 in reply to %q", text)
			}
		}
	})
}

func FuzzNormalise(f *testing.F) {
	f.Add("Ünïcödé\u200b\u0000 text")
	f.Add("ไม่อยากอยู่แล้ว อยากตาย")
	f.Fuzz(func(t *testing.T, s string) {
		n := normalise(s)
		if !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxQuestion {
			t.Fatalf("normalise(%q) = %q", s, n)
		}
		for _, w := range tokens(n) {
			if w == "" {
				t.Fatal("empty token")
			}
		}
	})
}
