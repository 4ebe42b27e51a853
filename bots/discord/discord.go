// Package discord is kratombot's Discord adapter: slash commands, topic
// autocomplete and buttons, over a gateway connection (discordgo) or behind
// Discord's HTTP interactions endpoint. One handler turns an interaction into
// an interaction response for both.
//
// It is a thin layer: every word people read comes from the engine and the
// knowledge YAML. It must never send a reply without the referral to
// professional help, never put anything before the crisis line, never log
// what people write (unless LogText is set) and never log a token.
package discord

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/knowledge"
)

// Platform is the name used in events, metrics and region keys.
const Platform = "discord"

// Engine is what the adapter needs from the answer engine (*bots.Engine).
type Engine interface {
	Answer(ctx context.Context, q bots.Question) (bots.Reply, error)
	Open(ctx context.Context, id, region string) (bots.Reply, error)
	Topics(kind knowledge.Kind, typed string, n int) []bots.Suggestion
	Region(name string) (code string, ok bool)
	Regions() []bots.Suggestion
}

// Options configure a Handler.
type Options struct {
	// Public makes replies visible to the whole channel; by default they are
	// ephemeral, so nobody has to ask about addiction in front of a server.
	Public bool
	// Feedback shows "Helpful" / "Not helpful" buttons under topic answers.
	Feedback bool
	// Region is the default region code ("" = the knowledge's default).
	Region string
	// Recorder receives an event for each reply sent and each feedback press.
	Recorder bots.Recorder
	// Regions remembers a person's /resources region; nil remembers nothing.
	Regions bots.RegionStore
	// Log gets no message text unless LogText is set.
	Log     *slog.Logger
	LogText bool
}

// Handler answers interactions. It is safe for concurrent use.
type Handler struct {
	e   Engine
	opt Options
	log *slog.Logger
}

// NewHandler builds the handler shared by the gateway and the HTTP endpoint.
func NewHandler(e Engine, opt Options) *Handler {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{e: e, opt: opt, log: log}
}

// Slash command names, option names and component custom id prefixes.
const (
	cmdAsk       = "ask"
	cmdSymptoms  = "symptoms"
	cmdTreatment = "treatment"
	cmdFAQ       = "faq"
	cmdResources = "resources"
	cmdHelp      = "help"
	cmdPrivacy   = "privacy"

	idOpen     = "open:" // button: open:<topic or menu id>
	idSelect   = "open"  // select menu; the value is the id
	idHelpful  = "fb:1:" // feedback buttons: fb:<1|0>:<topic>
	idNotHelp  = "fb:0:"
	idThanks   = "fb:done"
	maxCustom  = 100 // Discord's limit on custom_id
	maxChoices = 25  // autocomplete choices, select options, command choices
	maxName    = 100 // choice names and option labels
)

// topicKinds maps the topic commands to their kind and option name.
var topicKinds = map[string]struct {
	kind   knowledge.Kind
	option string
}{
	cmdSymptoms:  {knowledge.Symptom, "symptom"},
	cmdTreatment: {knowledge.Treatment, "step"},
	cmdFAQ:       {knowledge.FAQ, "topic"},
}

// storeTimeout bounds region look-ups: Discord drops an interaction that is
// not answered within three seconds, and a slow store must not cause that.
const storeTimeout = 500 * time.Millisecond

// Respond answers one interaction. It returns nil when ctx ends first. sent
// must be called once the response has been delivered: it records the event
// and remembers a region choice. Respond never panics on odd input.
func (h *Handler) Respond(ctx context.Context, i *discordgo.Interaction) (resp *discordgo.InteractionResponse, sent func(context.Context)) {
	noop := func(context.Context) {}
	if i == nil {
		return nil, noop
	}
	defer func() {
		// A malformed interaction must not take the bot down. A person who
		// used a command or a button still gets a reply with the referral,
		// not Discord's bare "interaction failed".
		if p := recover(); p != nil {
			h.log.Error("discord: could not handle an interaction", "type", i.Type.String())
			resp, sent = h.calmReply(ctx, i.Type), noop
		}
	}()
	switch i.Type {
	case discordgo.InteractionPing:
		return &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong}, noop
	case discordgo.InteractionApplicationCommandAutocomplete:
		d, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			return h.autocomplete("", nil), noop
		}
		return h.autocomplete(d.Name, focused(d.Options)), noop
	case discordgo.InteractionApplicationCommand:
		d, _ := i.Data.(discordgo.ApplicationCommandInteractionData)
		return h.command(ctx, i, d)
	case discordgo.InteractionMessageComponent:
		d, _ := i.Data.(discordgo.MessageComponentInteractionData)
		return h.component(ctx, i, d)
	}
	// Modals and future types: the help text, which carries the referral.
	return h.open(ctx, i, "help", false)
}

// userID is who acted, in a server (Member) or in a DM (User).
// calmReply is the engine's help text, which always carries the referral,
// for a command or button whose handling failed; nil for other interactions.
func (h *Handler) calmReply(ctx context.Context, t discordgo.InteractionType) (resp *discordgo.InteractionResponse) {
	if t != discordgo.InteractionApplicationCommand && t != discordgo.InteractionMessageComponent {
		return nil
	}
	defer func() {
		if recover() != nil {
			resp = nil
		}
	}()
	r, err := h.e.Open(ctx, "help", h.opt.Region)
	if err != nil {
		return nil
	}
	return h.reply(discordgo.InteractionResponseChannelMessageWithSource, r, false)
}

func userID(i *discordgo.Interaction) string {
	switch {
	case i.Member != nil && i.Member.User != nil:
		return i.Member.User.ID
	case i.User != nil:
		return i.User.ID
	}
	return ""
}

func regionKey(user string) string { return Platform + ":" + user }

// region is the person's remembered region, else the default.
func (h *Handler) region(ctx context.Context, i *discordgo.Interaction) string {
	user := userID(i)
	if user == "" || h.opt.Regions == nil {
		return h.opt.Region
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	r, ok, err := h.opt.Regions.ChatRegion(ctx, regionKey(user))
	if err != nil {
		h.log.Warn("discord: could not look up a remembered region; using the default", "err", err)
		return h.opt.Region
	}
	if !ok || r == "" {
		return h.opt.Region
	}
	return r
}

// options flattens the top-level options by name; string values only.
func options(opts []*discordgo.ApplicationCommandInteractionDataOption) map[string]string {
	m := map[string]string{}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if s, ok := o.Value.(string); ok {
			m[o.Name] = s
		}
	}
	return m
}

func focused(opts []*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	for _, o := range opts {
		if o != nil && o.Focused {
			return o
		}
	}
	return nil
}

func (h *Handler) command(ctx context.Context, i *discordgo.Interaction, d discordgo.ApplicationCommandInteractionData) (*discordgo.InteractionResponse, func(context.Context)) {
	opts := options(d.Options)
	h.log.Debug("discord: command", "command", d.Name)
	switch d.Name {
	case cmdAsk:
		return h.ask(ctx, i, opts["question"])
	case cmdSymptoms, cmdTreatment, cmdFAQ:
		tk := topicKinds[d.Name]
		v := strings.TrimSpace(opts[tk.option])
		if v == "" {
			return h.open(ctx, i, "menu:"+string(tk.kind), false)
		}
		// Autocomplete fills in a topic id; anything else was typed freely.
		if resp, sent := h.openTopic(ctx, i, v); resp != nil {
			return resp, sent
		}
		return h.ask(ctx, i, v)
	case cmdResources:
		if v := strings.TrimSpace(opts["region"]); v != "" {
			if code, ok := h.e.Region(v); ok {
				return h.open(ctx, i, "region:"+code, true)
			}
			// The engine says the region is unknown and lists those it
			// knows, keeping the person's helplines; nothing is remembered.
			return h.open(ctx, i, "region:"+v, false)
		}
		return h.open(ctx, i, "resources", false)
	case cmdPrivacy:
		return h.open(ctx, i, "privacy", false)
	}
	return h.open(ctx, i, "help", false)
}

// ask answers free text.
func (h *Handler) ask(ctx context.Context, i *discordgo.Interaction, text string) (*discordgo.InteractionResponse, func(context.Context)) {
	if h.opt.LogText {
		h.log.Debug("discord: question", "text", text)
	}
	user := userID(i)
	q := bots.Question{Text: text, Region: h.region(ctx, i), Chat: chatKey(i, user)}
	r, err := h.e.Answer(ctx, q)
	if err != nil {
		return nil, func(context.Context) {}
	}
	rec := h.record(q, r)
	named := r.NamedRegion()
	if named == "" || user == "" || h.opt.Regions == nil {
		return h.reply(discordgo.InteractionResponseChannelMessageWithSource, r, false), rec
	}
	// "I'm in the UK": kept as this person's region, as /resources does
	return h.reply(discordgo.InteractionResponseChannelMessageWithSource, r, false), func(ctx context.Context) {
		rec(ctx)
		h.rememberRegion(ctx, user, named)
	}
}

// chatKey is bots.Question.Chat for Discord: "discord:<channel>:<user>",
// so a follow-up is read in the context of this person's last answer here.
func chatKey(i *discordgo.Interaction, user string) string {
	if user == "" {
		return ""
	}
	return Platform + ":" + i.ChannelID + ":" + user
}

// rememberRegion keeps a person's region choice.
func (h *Handler) rememberRegion(ctx context.Context, user, code string) {
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	if err := h.opt.Regions.SetChatRegion(ctx, regionKey(user), code); err != nil {
		h.log.Warn("discord: could not remember a region choice", "err", err)
	}
}

// openTopic shows v if it is a topic id, and returns nil otherwise.
func (h *Handler) openTopic(ctx context.Context, i *discordgo.Interaction, v string) (*discordgo.InteractionResponse, func(context.Context)) {
	region := h.region(ctx, i)
	r, err := h.e.Open(ctx, v, region)
	if err != nil || r.Topic() != v {
		return nil, nil
	}
	return h.reply(discordgo.InteractionResponseChannelMessageWithSource, r, false), h.record(bots.Question{Region: region}, r)
}

// open shows an engine id (topic, menu, resources, region:CODE, help...).
// remember stores a region:CODE choice once the reply is sent.
func (h *Handler) open(ctx context.Context, i *discordgo.Interaction, id string, remember bool) (*discordgo.InteractionResponse, func(context.Context)) {
	region := h.region(ctx, i)
	r, err := h.e.Open(ctx, id, region)
	if err != nil {
		return nil, func(context.Context) {}
	}
	rec := h.record(bots.Question{Region: region}, r)
	user := userID(i)
	code, isRegion := strings.CutPrefix(id, "region:")
	if !remember || !isRegion || user == "" || h.opt.Regions == nil {
		return h.reply(discordgo.InteractionResponseChannelMessageWithSource, r, false), rec
	}
	return h.reply(discordgo.InteractionResponseChannelMessageWithSource, r, false), func(ctx context.Context) {
		rec(ctx)
		h.rememberRegion(ctx, user, code)
	}
}

// deferral is the response that buys time for a slow answer: a feedback
// press updates its message later (type 6), anything else shows "thinking"
// (type 5), ephemeral unless replies are public, as the answer will be.
func (h *Handler) deferral(i *discordgo.Interaction) *discordgo.InteractionResponse {
	if i.Type == discordgo.InteractionMessageComponent {
		if d, ok := i.Data.(discordgo.MessageComponentInteractionData); ok &&
			(strings.HasPrefix(d.CustomID, idHelpful) || strings.HasPrefix(d.CustomID, idNotHelp)) {
			return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}
		}
	}
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if !h.opt.Public {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	return resp
}

func (h *Handler) record(q bots.Question, r bots.Reply) func(context.Context) {
	return func(ctx context.Context) {
		if h.opt.Recorder != nil {
			h.opt.Recorder.Record(ctx, bots.NewEvent(Platform, q, r))
		}
	}
}

func (h *Handler) component(ctx context.Context, i *discordgo.Interaction, d discordgo.MessageComponentInteractionData) (*discordgo.InteractionResponse, func(context.Context)) {
	id := d.CustomID
	h.log.Debug("discord: button", "custom_id", id)
	switch {
	case id == idSelect:
		if len(d.Values) == 0 {
			return h.open(ctx, i, "help", false)
		}
		return h.open(ctx, i, d.Values[0], true)
	case strings.HasPrefix(id, idOpen):
		return h.open(ctx, i, strings.TrimPrefix(id, idOpen), true)
	case strings.HasPrefix(id, idHelpful), strings.HasPrefix(id, idNotHelp):
		return h.feedback(ctx, i, id[len(idHelpful):], strings.HasPrefix(id, idHelpful))
	}
	return h.open(ctx, i, "help", false)
}

// feedback records a "Was this helpful?" press and updates the message in
// place: the same answer, referral included, with the buttons replaced by a
// disabled "thanks", so one press counts once.
func (h *Handler) feedback(ctx context.Context, i *discordgo.Interaction, topic string, helpful bool) (*discordgo.InteractionResponse, func(context.Context)) {
	r, err := h.e.Open(ctx, topic, h.region(ctx, i))
	if err != nil {
		return nil, func(context.Context) {}
	}
	if r.Topic() != topic {
		// Not a topic (edited knowledge, forged id): show help, record nothing.
		return h.open(ctx, i, "help", false)
	}
	return h.reply(discordgo.InteractionResponseUpdateMessage, r, true), func(ctx context.Context) {
		if h.opt.Recorder != nil {
			b := helpful
			h.opt.Recorder.Record(ctx, bots.Event{Platform: Platform, Topic: topic, Helpful: &b})
		}
	}
}

// autocomplete offers topics of the command's kind (or regions) best first.
func (h *Handler) autocomplete(command string, opt *discordgo.ApplicationCommandInteractionDataOption) *discordgo.InteractionResponse {
	typed := ""
	if opt != nil {
		typed, _ = opt.Value.(string)
	}
	var sug []bots.Suggestion
	if tk, ok := topicKinds[command]; ok {
		sug = h.e.Topics(tk.kind, typed, maxChoices)
	} else if command == cmdResources {
		sug = matchRegions(h.e.Regions(), typed)
	}
	choices := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(sug))
	for _, s := range sug {
		if len(choices) == maxChoices {
			break
		}
		if s.ID == "" || len(s.ID) > maxName {
			continue
		}
		name := s.Label
		if strings.TrimSpace(name) == "" {
			name = s.ID
		}
		choices = append(choices, &discordgo.ApplicationCommandOptionChoice{Name: truncate(name, maxName), Value: s.ID})
	}
	return &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	}
}

// matchRegions keeps the regions whose code or name starts with, then
// contains, what was typed.
func matchRegions(all []bots.Suggestion, typed string) []bots.Suggestion {
	typed = strings.ToLower(strings.TrimSpace(typed))
	if typed == "" {
		return all
	}
	var first, then []bots.Suggestion
	for _, r := range all {
		code, name := strings.ToLower(r.ID), strings.ToLower(r.Label)
		switch {
		case strings.HasPrefix(code, typed) || strings.HasPrefix(name, typed):
			first = append(first, r)
		case strings.Contains(name, typed):
			then = append(then, r)
		}
	}
	return append(first, then...)
}

// truncate cuts s to at most n characters (runes), marking the cut.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}
