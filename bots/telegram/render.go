package telegram

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/kratombot/kratombot/bots"
)

// htmlFormat is Telegram's HTML parse mode: only & < > need escaping, which
// makes it safer than MarkdownV2 for text from YAML.
type htmlFormat struct{}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes s safe to show; Telegram refuses invalid UTF-8.
func (htmlFormat) Escape(s string) string {
	return htmlEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// Bold marks an escaped heading.
func (htmlFormat) Bold(s string) string { return "<b>" + s + "</b>" }

var htmlUnescaper = strings.NewReplacer("<b>", "", "</b>", "", "&lt;", "<", "&gt;", ">", "&amp;", "&")

// plainText is what a person reads of a message made with htmlFormat.
func plainText(s string) string { return htmlUnescaper.Replace(s) }

// render turns a reply into messages Telegram accepts: HTML split at
// paragraphs, referral in the last. Telegram counts UTF-16 units after
// parsing, so a reply heavy in emoji is split smaller; markup a split broke
// falls back to plain text, which cannot break.
func render(r bots.Reply) (parts []string, parseMode string) {
	for max := maxMessage; max >= 512; max -= 512 {
		parts := r.Messages(max, htmlFormat{})
		if fits(parts, true) {
			return parts, tgbotapi.ModeHTML
		}
	}
	for max := maxMessage; ; max -= 512 {
		parts := r.Messages(max, bots.Plain{})
		if fits(parts, false) || max <= 512 {
			return parts, ""
		}
	}
}

func fits(parts []string, html bool) bool {
	for _, p := range parts {
		if html && !wellFormed(p) {
			return false
		}
		if html {
			p = plainText(p)
		}
		if n := len(utf16.Encode([]rune(p))); n > maxMessage || strings.TrimSpace(p) == "" {
			return false
		}
	}
	return len(parts) > 0
}

// wellFormed checks that a message holds only what htmlFormat makes: whole
// entities and <b> pairs, so that a split never leaves half of either.
func wellFormed(s string) bool {
	open := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '<':
			switch {
			case strings.HasPrefix(s[i:], "<b>") && !open:
				open = true
				i += 2
			case strings.HasPrefix(s[i:], "</b>") && open:
				open = false
				i += 3
			default:
				return false
			}
		case '&':
			switch {
			case strings.HasPrefix(s[i:], "&amp;"), strings.HasPrefix(s[i:], "&lt;"), strings.HasPrefix(s[i:], "&gt;"):
			default:
				return false
			}
		case '>':
			return false
		}
	}
	return !open
}

// keyboard offers the reply's choices as buttons whose callbacks open them,
// and the "Was this helpful?" pair under topic answers when feedback is on.
// Callback data longer than Telegram's 64 bytes is left out rather than
// failing the whole message.
func (b *Bot) keyboard(r bots.Reply) *tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	for _, s := range r.Choices() {
		data := "o:" + s.ID
		if s.ID == "" || len(data) > maxCallbackData || !utf8.ValidString(data) {
			continue
		}
		if len(rows) == maxButtons {
			break
		}
		label := s.Label
		if strings.TrimSpace(label) == "" {
			label = s.ID
		}
		rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(buttonLabel(label), data)))
	}
	if b.cfg.Feedback && r.Intent() == bots.IntentTopic && r.Topic() != "" {
		yes, no := "h:y:"+r.Topic(), "h:n:"+r.Topic()
		if len(yes) <= maxCallbackData {
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(
				tgbotapi.NewInlineKeyboardButtonData("👍 Helpful", yes),
				tgbotapi.NewInlineKeyboardButtonData("👎 Not helpful", no)))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	kb := tgbotapi.NewInlineKeyboardMarkup(rows...)
	return &kb
}

// buttonLabel keeps a label short enough to read on a phone.
func buttonLabel(s string) string {
	s = strings.ToValidUTF8(strings.Join(strings.Fields(s), " "), "\uFFFD")
	if r := []rune(s); len(r) > 60 {
		return string(r[:59]) + "…"
	}
	return s
}

// splitAgain cuts one message in two, at the paragraph, line or space
// nearest its middle, for when Telegram answers "message is too long"
// although render thought it fit. HTML halves that would break a tag or an
// entity are made from the plain text instead, escaped again.
func splitAgain(s, mode string) []string {
	h := halve(s)
	if len(h) == 2 && mode == tgbotapi.ModeHTML && (!wellFormed(h[0]) || !wellFormed(h[1])) {
		h = halve(plainText(s))
		for i := range h {
			h[i] = htmlFormat{}.Escape(h[i])
		}
	}
	if len(h) == 2 && (strings.TrimSpace(h[0]) == "" || strings.TrimSpace(h[1]) == "") {
		return nil
	}
	return h
}

func halve(s string) []string {
	n := utf8.RuneCountInString(s)
	if n < 2 {
		return nil
	}
	mid := 0
	for i := 0; i < n/2; i++ {
		_, size := utf8.DecodeRuneInString(s[mid:])
		mid += size
	}
	for _, sep := range []string{"\n\n", "\n", " "} {
		before := strings.LastIndex(s[:mid], sep)
		after := strings.Index(s[mid:], sep)
		best := -1
		switch {
		case before > 0 && after >= 0:
			best = before
			if mid+after-mid < mid-before {
				best = mid + after
			}
		case before > 0:
			best = before
		case after >= 0 && mid+after+len(sep) < len(s):
			best = mid + after
		}
		if best > 0 {
			return []string{strings.TrimRight(s[:best], " \n"), strings.TrimLeft(s[best+len(sep):], " \n")}
		}
	}
	return []string{s[:mid], s[mid:]}
}
