package feedback

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestScrub(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain question kept, case and spaces folded", "How LONG does   withdrawal\tlast?", "how long does withdrawal last?"},
		{"digits", "day 3 and i still cant sleep", "day # and i still cant sleep"},
		{"phone number is one mark", "call me on +1 (555) 010-2000 please", "call me on # please"},
		{"dates and ages", "im 34, quit on 12/03/2025", "im #, quit on #"},
		{"unicode digits", "day ٣ of quitting", "day # of quitting"},
		{"email", "write to Jane.Doe+kratom@mail.example.co.uk about tapering", "write to [email] about tapering"},
		{"http link", "is https://example.com/a?b=c safe", "is [link] safe"},
		{"www link", "saw it on www.reddit.com/r/quittingkratom", "saw it on [link]"},
		{"bare domain", "does kratomhelp.org have a forum", "does [link] have a forum"},
		{"telegram link", "join t.me/somegroup now", "join [link] now"},
		{"handle", "my friend @jon_smith keeps using", "my friend [handle] keeps using"},
		{"discord mention", "<@123456789012345678> says it helps", "[handle] says it helps"},
		{"discord channel and emoji", "see <#987654321> <:sad:112233>", "see [handle] [handle]"},
		{"sentence without space is not a link", "cant sleep.anyone else", "cant sleep.anyone else"},
		{"long whitespace runs", "what\n\n\n   about    \r\n  anxiety", "what about anxiety"},
		{"zero-width characters removed", "rest\u200bless le\u200dgs", "restless legs"},
		{"control characters removed", "sleep\x00\x07 problems", "sleep problems"},
		{"only personal data left", "555-0100 jane@example.com", ""},
		{"only digits", "12345", ""},
		{"empty", "   ", ""},
		{"invalid utf-8", "sleep \xff\xfe problems", "sleep problems"},
		// Nothing personal: only words the bot can know are kept.
		{"a name", "my husband Jonathan takes kratom every day", "my husband [?] takes kratom every day"},
		{"a name that is also a word", "my friend Rose wont stop", "my friend [?] wont stop"},
		{"a name after my name is", "my name is mark and i quit", "my name is [?] and i quit"},
		{"first and last name are one mark", "Kowalczyk Brzęczyszczykiewicz here, need help", "[?] here, need help"},
		{"a street", "i live at 12 Elm Street near the pharmacy", "i live at # [?] near the pharmacy"},
		{"a lower-case street", "pharmacy on maple road sells it", "pharmacy on [?] road sells it"},
		{"a town", "any clinics in Tuscaloosa?", "any clinics in [?]?"},
		{"a town that is a word", "any meetings in Reading", "any meetings in [?]"},
		{"a diagnosis and a name", "Dr Okonkwo said bipolar", "[?] said [?]"},
		{"german", "Ich nehme seit Jahren Kratom und kann nicht aufhören", ""},
		{"spanish", "mi hermano toma kratom todos los días", "[?] kratom [?]"},
		{"russian", "мой брат принимает кратом", ""},
		{"chinese", "我哥哥吃卡痛叶", ""},
		{"sentence start is not a name", "Withdrawal is hard. Sleep is worse", "withdrawal is hard. sleep is worse"},
		{"shouting is not a name", "HELP my LEGS hurt", "help my legs hurt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Scrub(tt.in); got != tt.want {
				t.Errorf("Scrub(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The bot's own words are kept even when common English lacks them or they
// are written with a capital.
func TestScrubKeepsTheBotsWords(t *testing.T) {
	known := map[string]bool{"kratom": true, "loperamide": true, "uk": true, "samhsa": true}
	sc := Scrubber{Known: func(w string) bool { return known[w] }}
	for in, want := range map[string]string{
		"Is Loperamide ok with Kratom":   "is loperamide ok with kratom",
		"does SAMHSA help Priya":         "does samhsa help [?]",
		"helplines in the UK for Oluwa?": "[?] in the uk for [?]?",
	} {
		if got := sc.Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrubCapsLength(t *testing.T) {
	long := strings.Repeat("withdrawal ", 500) + "secret@example.com"
	got := Scrub(long)
	if n := utf8.RuneCountInString(got); n > MaxQuestion+1 {
		t.Fatalf("kept %d characters, want at most %d", n, MaxQuestion+1)
	}
	if !strings.HasSuffix(got, "…") {
		t.Errorf("a cut question should end with an ellipsis: %q", got)
	}
	// An address straddling the scan limit must not survive in part.
	edge := strings.Repeat("a ", (maxScan-10)/2) + "someone.private@example.com"
	if got := Scrub(edge); strings.Contains(got, "someone") || strings.Contains(got, "@") {
		t.Errorf("part of an address survived the cut: %q", got[len(got)-40:])
	}
	if !utf8.ValidString(Scrub(strings.Repeat("é", maxScan))) {
		t.Error("cutting a long text split a character")
	}
}

func FuzzScrub(f *testing.F) {
	for _, s := range []string{"hi @bob 555 a@b.co https://x.io", "\xff", strings.Repeat("9", 3000),
		"my son Tobias lives on Birchwood Lane", "Ich heiße Jürgen", "it's 'quoted' o'clock", "ǅemal’s ﬁne"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Scrub(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if strings.ContainsAny(got, "0123456789@") {
			t.Fatalf("a digit or @ survived: %q -> %q", s, got)
		}
		if utf8.RuneCountInString(got) > MaxQuestion+1 {
			t.Fatalf("too long: %d", utf8.RuneCountInString(got))
		}
		// nothing but common English survives (marks are English words too)
		for _, w := range strings.FieldsFunc(got, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' }) {
			w = strings.Trim(strings.ReplaceAll(w, "’", "'"), "'")
			if w != "" && !English(w) && !English(strings.ReplaceAll(w, "'", "")) {
				t.Fatalf("%q survived in %q -> %q", w, s, got)
			}
		}
	})
}
