package discord

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
)

// Discord's limits on what one message may hold.
const (
	maxContent     = 2000
	maxTitle       = 256
	maxDescription = 4096
	maxFieldValue  = 1024
	maxFields      = 25
	maxEmbedTotal  = 6000 // title, description, field names and values together
	maxButtonLabel = 80
	maxRowButtons  = 5
	maxRows        = 5
)

// Labels of the embed's fields and of the buttons. Everything else people
// read comes from the knowledge.
const (
	labelRelated    = "Related topics"
	labelReferral   = "Professional help"
	labelMore       = "\u200b" // a field name that shows nothing: the referral continued
	labelHelpful    = "Helpful"
	labelNotHelpful = "Not helpful"
	labelThanks     = "Thanks for your feedback"
	labelChoose     = "More topics"
)

const (
	colorAnswer = 0x2E8B57
	colorCrisis = 0xC0392B
)

// Markdown is the bots.Format for Discord: it escapes Discord's markdown so
// that knowledge text shows as written, leaving links whole.
type Markdown struct{}

// Bold marks already escaped text bold.
func (Markdown) Bold(s string) string {
	if s == "" {
		return s
	}
	return "**" + s + "**"
}

// Escape makes text show literally in a Discord message or embed.
func (Markdown) Escape(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart, tokenStart := true, true
	inURL := false
	for i, r := range s {
		if tokenStart {
			rest := s[i:]
			inURL = strings.HasPrefix(rest, "https://") || strings.HasPrefix(rest, "http://")
		}
		switch {
		case r == '\n' || r == ' ' || r == '\t':
			inURL = false
		case inURL:
		case strings.ContainsRune("\\*_~`|", r):
			b.WriteByte('\\')
		case lineStart && (r == '#' || r == '>'):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		tokenStart = r == '\n' || r == ' ' || r == '\t'
		lineStart = r == '\n' || (lineStart && (r == ' ' || r == '\t'))
	}
	return b.String()
}

var md Markdown

func runes(s string) int { return utf8.RuneCountInString(s) }

// reply renders an engine reply as a message: the crisis lead first in the
// content, then an embed with the answer, related topics and the referral as
// its own field(s), then buttons. thanked marks the feedback as given.
func (h *Handler) reply(typ discordgo.InteractionResponseType, r bots.Reply, thanked bool) *discordgo.InteractionResponse {
	data := &discordgo.InteractionResponseData{
		Content:         content(r),
		Embeds:          []*discordgo.MessageEmbed{embed(r)},
		Components:      h.components(r, thanked),
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}
	if !h.opt.Public && typ == discordgo.InteractionResponseChannelMessageWithSource {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	return &discordgo.InteractionResponse{Type: typ, Data: data}
}

// content is the crisis lead, bold; empty when there is none.
func content(r bots.Reply) string {
	var lead []string
	for _, l := range r.Lead() {
		lead = append(lead, md.Bold(md.Escape(l)))
	}
	s, _ := bots.Fit(lead, maxContent)
	return trimEscape(s)
}

// embed holds the answer within Discord's limits. The referral fields are
// placed first in the budget and never dropped; the related topics go next
// if they fit, and the description gets what is left, cut at paragraphs.
func embed(r bots.Reply) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{Title: trimEscape(truncate(md.Escape(r.Title()), maxTitle)), Color: colorAnswer}
	if r.Kind() == bots.KindCrisis {
		e.Color = colorCrisis
	}
	var ref []string
	for _, l := range r.Referral().Lines() {
		ref = append(ref, md.Escape(l))
	}
	refFields := fields(labelReferral, ref)

	var paras []string
	for _, p := range r.Paragraphs() {
		paras = append(paras, md.Escape(p))
	}
	need := runes(strings.Join(paras, "\n\n"))

	budget := maxEmbedTotal - runes(e.Title) - fieldsSize(refFields)
	if rel := r.Related(); len(rel) > 0 {
		var lines []string
		for _, s := range rel {
			lines = append(lines, "• "+md.Escape(s.Label))
		}
		// One field's worth of related topics, and only when it costs the
		// answer nothing: the answer matters more than links to others.
		if f := fields(labelRelated, lines); len(f) > 0 && budget-fieldsSize(f[:1]) >= min(need, maxDescription) {
			e.Fields = append(e.Fields, f[0])
			budget -= fieldsSize(f[:1])
		}
	}
	e.Fields = append(e.Fields, refFields...)
	if len(e.Fields) > maxFields {
		e.Fields = e.Fields[len(e.Fields)-maxFields:]
	}
	if budget > 0 { // bots.Fit needs room for at least one character
		d, _ := bots.Fit(paras, min(maxDescription, budget))
		e.Description = trimEscape(d)
	}
	return e
}

// fields splits lines into embed fields of at most maxFieldValue characters,
// at line ends (a line longer than that is cut at words), so nothing is lost.
func fields(name string, lines []string) []*discordgo.MessageEmbedField {
	var out []*discordgo.MessageEmbedField
	cur := ""
	flush := func() {
		if cur == "" {
			return
		}
		n := labelMore
		if len(out) == 0 {
			n = name
		}
		out = append(out, &discordgo.MessageEmbedField{Name: n, Value: cur})
		cur = ""
	}
	for _, l := range lines {
		for _, piece := range splitLine(l, maxFieldValue) {
			switch {
			case cur == "":
				cur = piece
			case runes(cur)+1+runes(piece) <= maxFieldValue:
				cur += "\n" + piece
			default:
				flush()
				cur = piece
			}
		}
	}
	flush()
	return out
}

// splitLine cuts one line into pieces of at most max characters at spaces.
func splitLine(l string, max int) []string {
	var out []string
	l = strings.TrimSpace(l)
	for runes(l) > max {
		head, _ := bots.Fit([]string{l}, max)
		head = trimEscape(head)
		if head == "" {
			head = string([]rune(l)[:max])
		}
		out = append(out, head)
		l = strings.TrimSpace(l[len(head):])
	}
	if l != "" {
		out = append(out, l)
	}
	return out
}

func fieldsSize(fs []*discordgo.MessageEmbedField) int {
	n := 0
	for _, f := range fs {
		n += runes(f.Name) + runes(f.Value)
	}
	return n
}

// trimEscape drops a lone backslash a cut may have left at the end.
func trimEscape(s string) string {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	if n%2 == 1 {
		return s[:len(s)-1]
	}
	return s
}

// components are the topic buttons (or a select menu when there are more
// than fit in a row) and, for topic answers, the feedback buttons.
func (h *Handler) components(r bots.Reply, thanked bool) []discordgo.MessageComponent {
	rows := []discordgo.MessageComponent{}
	var choices []bots.Suggestion
	for _, c := range r.Choices() {
		if c.ID != "" && len(idOpen)+len(c.ID) <= maxCustom && strings.TrimSpace(c.Label) != "" {
			choices = append(choices, c)
		}
	}
	switch {
	case len(choices) == 0:
	case len(choices) <= maxRowButtons:
		var bs []discordgo.MessageComponent
		for _, c := range choices {
			bs = append(bs, discordgo.Button{Label: truncate(c.Label, maxButtonLabel), Style: discordgo.SecondaryButton, CustomID: idOpen + c.ID})
		}
		rows = append(rows, discordgo.ActionsRow{Components: bs})
	default:
		var opts []discordgo.SelectMenuOption
		for _, c := range choices {
			if len(opts) == maxChoices {
				break
			}
			opts = append(opts, discordgo.SelectMenuOption{Label: truncate(c.Label, maxName), Value: c.ID})
		}
		one := 1
		rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.SelectMenu{
			CustomID: idSelect, Placeholder: labelChoose, MinValues: &one, MaxValues: 1, Options: opts,
		}}})
	}
	topic := r.Topic()
	if h.opt.Feedback && topic != "" && r.Intent() == bots.IntentTopic && len(idHelpful)+len(topic) <= maxCustom {
		if thanked {
			rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: labelThanks, Style: discordgo.SecondaryButton, CustomID: idThanks, Disabled: true},
			}})
		} else {
			rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.Button{Label: labelHelpful, Style: discordgo.SuccessButton, CustomID: idHelpful + topic},
				discordgo.Button{Label: labelNotHelpful, Style: discordgo.SecondaryButton, CustomID: idNotHelp + topic},
			}})
		}
	}
	if len(rows) > maxRows {
		rows = rows[len(rows)-maxRows:]
	}
	return rows
}

// encode writes a response as Discord expects it. An autocomplete result
// always carries a choices array, even an empty one, which discordgo's
// omitempty would drop.
func encode(resp *discordgo.InteractionResponse) ([]byte, error) {
	if resp.Type == discordgo.InteractionApplicationCommandAutocompleteResult {
		var choices []*discordgo.ApplicationCommandOptionChoice
		if resp.Data != nil {
			choices = resp.Data.Choices
		}
		if choices == nil {
			choices = []*discordgo.ApplicationCommandOptionChoice{}
		}
		type data struct {
			Choices []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
		}
		return json.Marshal(struct {
			Type discordgo.InteractionResponseType `json:"type"`
			Data data                              `json:"data"`
		}{resp.Type, data{choices}})
	}
	return json.Marshal(resp)
}
