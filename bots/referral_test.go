package bots

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kratombot/kratombot/knowledge"
)

func shipped(t testing.TB) (*Engine, *knowledge.Base) {
	t.Helper()
	b, err := knowledge.Load(knowledge.Embedded(), knowledge.EmbeddedName)
	if err != nil {
		t.Fatalf("the shipped knowledge does not load:\n%v", err)
	}
	e, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	return e, b
}

// everyReply lists one reply of every sort the bot can send, in every region.
func everyReply(t testing.TB, e *Engine, b *knowledge.Base) map[string]Reply {
	t.Helper()
	ctx := context.Background()
	out := map[string]Reply{}
	opens := []string{"welcome", "help", "privacy", "resources", "crisis", "menu:symptom", "menu:treatment", "menu:faq", "no-such-thing"}
	for _, reg := range b.Regions {
		opens = append(opens, "region:"+reg.Code)
	}
	for _, tp := range b.Topics {
		opens = append(opens, tp.ID)
	}
	questions := []string{"", "what is the weather on mars", "how much kratom should i take", "hi", "thanks", "help"}
	for _, c := range b.Crisis {
		questions = append(questions, c.Phrases...)
	}
	for _, tp := range b.Topics {
		questions = append(questions, tp.Questions...)
	}
	// The understanding stages' own paths: every crisis tier (a sample of
	// the examples, the idioms that only sound alarming), a long post, a
	// follow-up-sized message, a place named in passing.
	for i, c := range b.Crisis {
		for j := i; j < len(c.Examples); j += 7 {
			questions = append(questions, c.Examples[j])
		}
	}
	for j := 0; j < len(b.NotCrisis); j += 7 {
		questions = append(questions, b.NotCrisis[j])
	}
	questions = append(questions,
		"overdosed on coffee today lol, how long does kratom withdrawal last",
		"Day 4 off kratom. I cant sleep at all. My legs wont stop moving at night. And the diarrhea is constant. How long does this go on?",
		"It has been a strange year. Work changed, we moved twice. The car broke down. Anyway.",
		"is it safe with it", "im in leeds and i cant sleep", "i live in germany, my brother uses kratom",
		// a plea alone (the crisis line, then an invitation), a bare
		// follow-up with no chat before it, a grown child's parent
		"help me", "why", "my son is 28 and uses kratom every day")
	for _, reg := range append([]*knowledge.Region{{Code: "unknown"}}, b.Regions...) {
		for _, id := range opens {
			r, err := e.Open(ctx, id, reg.Code)
			if err != nil {
				t.Fatal(err)
			}
			out[reg.Code+" open "+id] = r
		}
		for _, q := range questions {
			out[reg.Code+" ask "+q] = ask(t, e, q, reg.Code)
		}
	}
	return out
}

// TestEveryReplyCarriesTheReferral is the promise the bot makes: whatever
// path a message takes, in whatever region, however it is split for a
// platform, the person is pointed to professional help.
func TestEveryReplyCarriesTheReferral(t *testing.T) {
	e, b := shipped(t)
	replies := everyReply(t, e, b)
	if len(replies) < 100 {
		t.Fatalf("only %d replies checked", len(replies))
	}
	for name, r := range replies {
		ref := r.Referral().Text()
		if ref == "" || !(strings.ContainsAny(ref, "0123456789") || strings.Contains(ref, ".")) {
			t.Errorf("%s: referral %q has no number to call and no website", name, ref)
		}
		if !strings.Contains(r.Text(), ref) {
			t.Errorf("%s: text lacks the referral", name)
		}
		if r.Kind() == KindCrisis { // any tier: the line to call comes before anything else
			lead := r.Lead()
			if len(lead) == 0 || !strings.HasPrefix(r.Messages(1024, Plain{})[0], lead[0]) ||
				!(strings.HasPrefix(lead[0], "Emergency:") || strings.HasPrefix(lead[0], "Please reach out now:")) {
				t.Errorf("%s: a crisis reply (%s) does not open with the line to call: %q", name, r.Intent(), lead)
			}
		}
		for _, max := range []int{4096, 2000, 1024} {
			msgs := r.Messages(max, Plain{})
			if last := msgs[len(msgs)-1]; !strings.Contains(last, ref) {
				t.Errorf("%s: split at %d, the last message lacks the referral", name, max)
			}
			for _, m := range msgs {
				if utf8.RuneCountInString(m) > max {
					t.Errorf("%s: a message is %d characters, over %d", name, utf8.RuneCountInString(m), max)
				}
			}
		}
	}
}

func TestCrisisRepliesLeadWithTheRightNumber(t *testing.T) {
	e, b := shipped(t)
	for _, reg := range b.Regions {
		for _, c := range b.Crisis {
			for _, p := range c.Phrases {
				r := ask(t, e, p, reg.Code)
				if r.Kind() != KindCrisis {
					t.Errorf("%s: crisis phrase %q (%s) was not treated as a crisis", reg.Code, p, c.ID)
					continue
				}
				first := r.Messages(0, Plain{})[0]
				first = strings.SplitN(first, "\n", 2)[0]
				want := reg.Emergency
				if c.Contact == knowledge.ContactCrisis {
					want = firstNumber(reg.Crisis)
				}
				if !strings.Contains(first, want) {
					t.Errorf("%s %s %q: first line %q lacks %q", reg.Code, c.ID, p, first, want)
				}
				if !strings.Contains(r.Referral().Text(), reg.Emergency) {
					t.Errorf("%s %s: crisis referral lacks the emergency number", reg.Code, c.ID)
				}
			}
		}
	}
}

func firstNumber(cs []knowledge.Contact) string {
	for _, c := range cs {
		if c.Phone != "" {
			return c.Phone
		}
		if c.URL != "" {
			return strings.TrimPrefix(strings.TrimPrefix(c.URL, "https://"), "www.")
		}
	}
	return ""
}

func TestZeroReplyStillRefers(t *testing.T) {
	var r Reply
	if !strings.Contains(r.Text(), "1-800-662-4357") {
		t.Fatalf("even a zero Reply must carry the referral, got %q", r.Text())
	}
}

// TestEmergencyIsAnInstruction: in every region the emergency line tells
// the person what to do. A region whose number is written in words (the
// international one) once read "Emergency: your local emergency number
// (112 in many countries) now.", with no verb.
func TestEmergencyIsAnInstruction(t *testing.T) {
	e, b := shipped(t)
	for _, reg := range b.Regions {
		t.Run(reg.Code, func(t *testing.T) {
			r, err := e.Answer(context.Background(), Question{Text: "my friend is not breathing", Region: reg.Code})
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(r.Text(), "\n")
			if !strings.HasPrefix(first, "Emergency: call ") {
				t.Errorf("the reply opens %q, want an instruction to call", first)
			}
			for _, line := range r.Referral().Lines() {
				if strings.HasPrefix(line, "Emergency: ") && !strings.HasPrefix(line, "Emergency: call ") {
					t.Errorf("the crisis lines hold %q, want an instruction to call", line)
				}
			}
		})
	}
}

// Someone at a friend's side during an overdose is told about naloxone,
// which reverses opioids; and every country's referral has a number to
// call, not only a web address (Canada's was one long URL).
func TestOverdoseNamesNaloxoneAndReferralsHaveANumber(t *testing.T) {
	e, b := shipped(t)
	for _, reg := range b.Regions {
		t.Run(reg.Code, func(t *testing.T) {
			r, err := e.Answer(context.Background(), Question{Text: "i think my friend overdosed, hes not waking up", Region: reg.Code})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Text(), "naloxone") {
				t.Errorf("the overdose reply does not mention naloxone:\n%s", r.Text())
			}
			if reg.Code == "INTL" { // no one number works everywhere
				return
			}
			phone := false
			for _, c := range reg.Referral {
				phone = phone || c.Phone != ""
			}
			if !phone {
				t.Errorf("the %s referral has no number to call", reg.Code)
			}
		})
	}
}
