package bots

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/kratombot/kratombot/knowledge"
)

func minimal(t testing.TB) *Engine {
	t.Helper()
	b, err := knowledge.LoadDir("../knowledge/testdata/minimal")
	if err != nil {
		t.Fatalf("loading the test knowledge: %v", err)
	}
	e, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ask(t testing.TB, e *Engine, text, region string) Reply {
	t.Helper()
	r, err := e.Answer(context.Background(), Question{Text: text, Region: region})
	if err != nil {
		t.Fatalf("Answer(%q): %v", text, err)
	}
	return r
}

// Small talk on the shipped knowledge: a person who asks whether anyone is
// there is told it is a bot and where the people are, and thanks that use
// help's word ("that helped") is thanks, not the menu.
func TestSmallTalk(t *testing.T) {
	e, _ := shipped(t)
	tests := []struct {
		q      string
		intent Intent
		says   string
	}{
		{"are you a real person", IntentBot, "I'm a bot, not a person"},
		{"can i talk to a real person", IntentBot, "To talk to a person, call the helpline below"},
		{"is anyone there", IntentBot, "I'm a bot"},
		{"thanks that helped a lot", IntentThanks, "You're welcome"},
		{"that helped", IntentThanks, "You're welcome"},
		{"help", IntentHelp, "in your own words"},
		// the plea's own words follow the crisis line it leads with
		{"help me", "possible-crisis:suicide", "Tell me what's going on"},
		{"someone please help me", "possible-crisis:suicide", "Tell me what's going on"},
	}
	for _, tt := range tests {
		r := ask(t, e, tt.q, "")
		if r.Intent() != tt.intent || !strings.Contains(r.Text(), tt.says) || !strings.Contains(r.Text(), "1-800-662-4357") {
			t.Errorf("%q got %s, want %s saying %q and the helpline:\n%s", tt.q, r.Intent(), tt.intent, tt.says, r.Text())
		}
	}
}

func TestAnswerRoutes(t *testing.T) {
	e := minimal(t)
	tests := []struct {
		name   string
		q      string
		kind   Kind
		intent Intent
		topic  string
	}{
		{"plain question", "why cant i sleep after quitting", KindAnswer, IntentTopic, "sleep"},
		{"lowercase no punctuation", "cant sleep since i quit", KindAnswer, IntentTopic, "sleep"},
		{"typo", "insomina", KindAnswer, IntentTopic, "sleep"},
		{"slang from vocabulary", "rls", KindAnswer, IntentTopic, "restless-legs"},
		{"shouting", "MY LEGS WONT STOP MOVING!!!", KindAnswer, IntentTopic, "restless-legs"},
		{"curly apostrophe", "why can’t i sleep", KindAnswer, IntentTopic, "sleep"},
		{"zero width inside a word", "in\u200bsomnia", KindAnswer, IntentTopic, "sleep"},
		{"crisis without the word suicide", "i just want to die", KindCrisis, IntentCrisis, ""},
		{"crisis in a longer message", "cant sleep and honestly i want to kill myself", KindCrisis, IntentCrisis, ""},
		{"overdose", "my friend is not breathing", KindCrisis, IntentCrisis, ""},
		{"dosing", "how much kratom should i take to taper", KindAnswer, IntentDosing, ""},
		{"dosing word", "what dose", KindAnswer, IntentDosing, ""},
		{"greeting", "hi", KindAnswer, IntentGreeting, ""},
		{"greeting with filler", "hello there", KindAnswer, IntentGreeting, ""},
		{"greeting with a question is a question", "hi i cant sleep", KindAnswer, IntentTopic, "sleep"},
		{"thanks", "thank you so much", KindAnswer, IntentThanks, ""},
		{"help", "help", KindAnswer, IntentHelp, ""},
		{"off topic", "what is the weather in paris", KindFallback, IntentFallback, ""},
		{"empty", "", KindFallback, IntentEmpty, ""},
		{"only punctuation", "?!?!", KindFallback, IntentEmpty, ""},
		{"emoji", "😭😭😭", KindFallback, IntentEmpty, ""},
		{"binary", "\x00\xff\xfe\x01", KindFallback, IntentEmpty, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ask(t, e, tt.q, "")
			intent := r.Intent()
			if before, _, ok := strings.Cut(string(intent), ":"); ok { // "crisis:suicide"
				intent = Intent(before)
			}
			if r.Kind() != tt.kind || intent != tt.intent || r.Topic() != tt.topic {
				t.Errorf("got kind=%s intent=%s topic=%q, want %s %s %q\n%s", r.Kind(), r.Intent(), r.Topic(), tt.kind, tt.intent, tt.topic, r.Text())
			}
		})
	}
}

func TestCrisisComesFirst(t *testing.T) {
	e := minimal(t)
	tests := []struct {
		q, region, first string
	}{
		{"i want to kill myself", "", "988"},
		{"i want to kill myself", "UK", "116 123"},
		{"he took an overdose", "", "911"},
		{"she took an overdose", "uk", "999"},
	}
	for _, tt := range tests {
		r := ask(t, e, tt.q, tt.region)
		text := r.Text()
		first := strings.SplitN(text, "\n", 2)[0]
		if r.Kind() != KindCrisis || !strings.Contains(first, tt.first) {
			t.Errorf("%q in %q: first line %q does not give %s", tt.q, tt.region, first, tt.first)
		}
		msgs := r.Messages(120, Plain{})
		if !strings.Contains(msgs[0], tt.first) {
			t.Errorf("%q: the first message of a split crisis reply lacks %s: %q", tt.q, tt.first, msgs[0])
		}
	}
}

func TestFallbackOffersClosestTopics(t *testing.T) {
	e := minimal(t)
	r := ask(t, e, "kicking at night weird", "")
	if r.Kind() == KindFallback && len(r.Suggestions()) == 0 {
		t.Fatalf("a fallback must offer suggestions")
	}
	r = ask(t, e, "what is the weather in paris", "")
	if len(r.Suggestions()) == 0 {
		t.Fatalf("an off-topic fallback should still offer the menu")
	}
}

func TestDosingNeverGivesNumbers(t *testing.T) {
	e := minimal(t)
	for _, q := range []string{"how much kratom to take", "whats a safe dose", "give me a taper schedule"} {
		r := ask(t, e, q, "")
		body := strings.Join(r.Paragraphs(), " ")
		if r.Intent() != IntentDosing || strings.ContainsAny(body, "0123456789") {
			t.Errorf("%q: intent %s, body %q", q, r.Intent(), body)
		}
	}
}

func TestHugeInputIsCapped(t *testing.T) {
	e := minimal(t)
	r := ask(t, e, strings.Repeat("sleep ", 1_000_000), "")
	if r.Topic() != "sleep" {
		t.Fatalf("a huge message about sleep should still reach sleep, got %s", r.Kind())
	}
}

func TestCrisisAtTheEndOfALongMessage(t *testing.T) {
	e := minimal(t)
	story := strings.Repeat("i have been using kratom for years and it is hard. ", 200) + "honestly i want to die"
	if r := ask(t, e, story, ""); r.Kind() != KindCrisis {
		t.Fatalf("a crisis said after %d characters must still get the crisis line, got %s", len(story), r.Kind())
	}
}

func TestOneHugeWordStaysCalm(t *testing.T) {
	e := minimal(t)
	for _, q := range []string{strings.Repeat("é", 7000), strings.Repeat("a", 20000), "x" + strings.Repeat("ab", 3000) + " i want to die"} {
		r := ask(t, e, q, "")
		if r.Kind() == KindAnswer {
			t.Errorf("a blob of %d bytes should not reach a topic: %s", len(q), r.Topic())
		}
	}
}

func TestCancelledContext(t *testing.T) {
	e := minimal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Answer(ctx, Question{Text: "sleep"}); err == nil {
		t.Fatal("a cancelled context must stop the answer")
	}
}

func TestOpen(t *testing.T) {
	e := minimal(t)
	ctx := context.Background()
	for _, tt := range []struct {
		id     string
		intent Intent
		kind   Kind
	}{
		{"sleep", IntentTopic, KindAnswer},
		{"menu:symptom", IntentOverview, KindAnswer},
		{"resources", IntentResources, KindAnswer},
		{"region:UK", IntentResources, KindAnswer},
		{"crisis", IntentCrisis, KindCrisis},
		{"privacy", IntentPrivacy, KindAnswer},
		{"welcome", IntentWelcome, KindAnswer},
		{"nonsense", IntentHelp, KindAnswer},
	} {
		r, err := e.Open(ctx, tt.id, "")
		if err != nil || r.Intent() != tt.intent || r.Kind() != tt.kind {
			t.Errorf("Open(%q) = %s/%s, %v", tt.id, r.Kind(), r.Intent(), err)
		}
	}
	r, _ := e.Open(ctx, "region:UK", "")
	if !strings.Contains(r.Text(), "116 123") || !strings.Contains(r.Text(), "999") {
		t.Errorf("UK helplines missing:\n%s", r.Text())
	}
}

func TestTopicsAutocomplete(t *testing.T) {
	e := minimal(t)
	got := e.Topics(knowledge.Symptom, "rest", 25)
	if len(got) == 0 || got[0].ID != "restless-legs" {
		t.Fatalf("typing 'rest' should offer restless legs first, got %v", got)
	}
	if all := e.Topics(knowledge.Symptom, "", 25); len(all) != 2 {
		t.Fatalf("two symptom topics, got %v", all)
	}
	if one := e.Topics("", "", 1); len(one) != 1 {
		t.Fatalf("n limits the choices, got %v", one)
	}
}

func TestRegionAliases(t *testing.T) {
	e := minimal(t)
	for in, want := range map[string]string{"us": "US", "USA": "US", "united kingdom": "UK", " uk ": "UK"} {
		if got, ok := e.Region(in); !ok || got != want {
			t.Errorf("Region(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := e.Region("narnia"); ok {
		t.Error("an unknown region must not resolve")
	}
}

func TestSwapKeepsAnswering(t *testing.T) {
	e := minimal(t)
	b, _ := knowledge.LoadDir("../knowledge/testdata/minimal")
	done := make(chan bool)
	go func() {
		for i := 0; i < 50; i++ {
			_ = e.Swap(b)
		}
		close(done)
	}()
	for {
		select {
		case <-done:
			return
		default:
			if r := ask(t, e, "insomnia", ""); r.Topic() != "sleep" {
				t.Fatalf("answer changed during swap: %s", r.Topic())
			}
		}
	}
}

func TestPrivacySaysWhatIsKept(t *testing.T) {
	e := minimal(t)
	ctx := context.Background()
	off, _ := e.Open(ctx, "privacy", "")
	e.SetFeedbackStore(true)
	on, _ := e.Open(ctx, "privacy", "")
	if !strings.Contains(off.Text(), "Nothing you write is stored") || !strings.Contains(on.Text(), "Anonymous counts") {
		t.Fatalf("with the store off:\n%s\nwith it on:\n%s", off.Text(), on.Text())
	}
}

func TestCommandID(t *testing.T) {
	for in, want := range map[string]string{
		"/start": "welcome", "symptoms": "menu:symptom", "/Treatment": "menu:treatment", "faq": "menu:faq",
		"/helplines": "resources", "/resources": "resources", "/crisis": "crisis", "/privacy": "privacy",
		"/restless_legs": "restless-legs", "/region": "region",
	} {
		if got := CommandID(in); got != want {
			t.Errorf("CommandID(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownRegionIsSaid(t *testing.T) {
	e := minimal(t)
	r, err := e.Open(context.Background(), "region:nz", "UK")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text(), `I don't know the region "nz"`) || !strings.Contains(r.Text(), "US (United States)") {
		t.Errorf("an unknown region is not said, with the regions there are:\n%s", r.Text())
	}
	if r.Referral().Region() != "UK" {
		t.Errorf("the person's own helplines (UK) were swapped for %s", r.Referral().Region())
	}
}

// The feature table must find every key it was given, at its row, however
// it grew, and find none it was not: a wrong row would read another word's
// weights.
func TestFeatureRowsFindWhatTheyHold(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 17, 1000, 70000} {
		f := newFeatureRows(0)
		for i := 0; i < n; i++ {
			f.add(featureKey(gStem, fmt.Sprint("w", i)))
			f.add(featureKey(gStem, fmt.Sprint("w", i/2))) // a key seen again keeps its row
		}
		if f.len() != n {
			t.Fatalf("%d keys: table holds %d", n, f.len())
		}
		saved := newFeatureRows(n)
		f.each(func(k uint64, row int32) { saved.set(k, row) })
		for _, tab := range []*featureRows{f, saved} {
			for i := 0; i < n; i++ {
				if row, ok := tab.get(featureKey(gStem, fmt.Sprint("w", i))); !ok || row != int32(i) {
					t.Fatalf("%d keys: key %d at row %d (found %v)", n, i, row, ok)
				}
			}
			if _, ok := tab.get(featureKey(gStem, "never added")); ok {
				t.Fatalf("%d keys: found a key never added", n)
			}
		}
	}
}
