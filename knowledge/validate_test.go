package knowledge

import (
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// brokenDir holds one small YAML file per mistake a maintainer can make.
// Each is checked beside testdata/minimal/all.yaml (a complete, valid
// knowledge base), so that the file's own mistake is the only one; the
// positions are the real lines of the files in this folder.
const brokenDir = "testdata/broken"

// want is one expected problem: its exact line:col in the broken file, a
// part of the message that says what to do, and whether it is a warning.
type want struct {
	at      string // "line:col"
	message string
	warning bool
}

var brokenCases = []struct {
	file string
	want []want
}{
	// YAML itself
	{"empty-file.yaml", []want{{"1:1", "this file is empty", false}}},
	{"tab-indent.yaml", []want{{"4:1", "indented with a tab; YAML needs spaces", false}}},
	{"colon-in-text.yaml", []want{{"4:22", `a ':' inside text needs the whole text in quotes`, false}}},
	{"key-twice.yaml", []want{{"6:5", `"title" appears twice in this entry (first on line 4)`, false}}},
	// only the cause: not also the knock-on "has neither words nor questions"
	{"words-not-a-list.yaml", []want{{"6:5", "found the text `nightmares` where this needs a list like [a, b]", false}}},
	{"unknown-key.yaml", []want{
		{"7:5", `unknown key "anwser"; did you mean "answer"?`, false},
		{"3:5", `topic "nightmares" has no answer`, false},
	}},
	{"threshold-twice.yaml", []want{{"2:12", `"threshold" is already given in`, false}}},

	// topics
	{"duplicate-id.yaml", []want{{"3:9", `id "sleep" is already used by the topic at`, false}}},
	{"bad-id.yaml", []want{{"3:9", `id "Bad Dreams" may use only lowercase letters, digits and single hyphens`, false}}},
	{"kind-unknown.yaml", []want{{"5:11", `kind "symptoms" of topic "nightmares" is not known; use symptom, treatment or faq`, false}}},
	{"related-missing.yaml", []want{{"8:22", `lists related topic "restles-legs", which does not exist`, false}}},
	{"elsewhere-missing.yaml", []want{{"9:16", `'elsewhere' of "law-at-home" names topic "law-abroud", which does not exist`, false}}},
	{"for-adults-missing.yaml", []want{{"8:17", `'for_adults' of "teen-parents" names topic "helping-a-loved-onee", which does not exist`, false}}},
	{"for-regions-unknown.yaml", []want{{"8:18", `topic "law-at-home" has 'for_regions' but no 'elsewhere'`, false}}},
	{"empty-title.yaml", []want{{"4:12", `topic "nightmares" has no title`, false}}},
	{"title-too-long.yaml", []want{{"4:12", `is 120 characters; keep it under 100`, false}}},
	{"empty-answer.yaml", []want{{"7:13", `topic "nightmares" has no answer`, false}}},
	{"answer-too-long.yaml", []want{{"7:13", `the answer of "long-read" is 3795 characters; Telegram and Discord fit about 3500`, false}}},
	{"dose-in-answer.yaml", []want{{"10:7", `names an amount ("2 grams"); the bot never gives doses`, false}}},
	{"medicine-unguided.yaml", []want{{"10:7", `names gabapentin in a sentence without a clinician`, false}}},
	{"no-sources.yaml", []want{{"3:5", `topic "nightmares" has no sources`, false}}},
	{"no-reviewed.yaml", []want{{"3:5", `topic "nightmares" has no reviewed date; add 'reviewed: YYYY-MM-DD'`, false}}},
	{"reviewed-not-a-date.yaml", []want{{"11:15", `reviewed "11/01/2026" of "nightmares" is not a date; write it as YYYY-MM-DD`, false}}},
	{"reviewed-in-future.yaml", []want{{"11:15", `is in the future`, false}}},
	{"reviewed-long-ago.yaml", []want{{"11:15", `last reviewed on 2024-03-15, over a year ago`, true}}},
	{"word-claimed-twice.yaml", []want{{"6:25", `the word "insomnia" is claimed by "sleep" too`, false}}},
	{"question-claimed-twice.yaml", []want{{"9:9", `the question "Should I see a doctor" is also listed under "see-a-professional"`, false}}},
	{"url-malformed.yaml", []want{
		{"9:14", `url "www.drugs.ie" of "HSE Drugs and Alcohol Helpline" is not a full web address`, false},
		{"21:14", `url "https://nida.nih.gov/some page" of a source of "nightmares" is not a full web address`, false},
	}},

	// regions
	{"region-no-crisis.yaml", []want{{"3:5", "region IE has no crisis line", false}}},
	{"region-no-emergency.yaml", []want{{"3:5", "region IE has no emergency number", false}}},
	{"region-no-referral.yaml", []want{{"3:5", "region IE has no referral", false}}},
	{"region-twice.yaml", []want{{"3:11", "region US is listed twice", false}}},
	{"phone-malformed.yaml", []want{
		{"8:16", `phone "1800-HELP-NOW" of "HSE Drugs and Alcohol Helpline" is not a phone number`, false},
		{"12:15", `text line "HELLO" of "Samaritans" is not a number`, false},
	}},
	{"contact-unreachable.yaml", []want{{"7:9", `"HSE Drugs and Alcohol Helpline" in region IE has no phone, text or url`, false}}},

	// mistakes maintainers made (issue 11): each at the line to change, in plain words
	{"indent-three-spaces.yaml", []want{{"14:4", "this line is indented 3 space(s), which matches no line above it", false}}},
	{"topic-under-indented.yaml", []want{{"13:2", "this line is indented 1 space(s), which matches no line above it", false}}},
	{"quote-unclosed.yaml", []want{{"4:12", `the quote (") opened here is not closed on this line`, false}}},
	{"list-unclosed.yaml", []want{{"6:12", "the list opened here with [ is not closed", false}}},
	{"curly-quotes-title.yaml", []want{{"4:12", "this line uses curly quotes (“ ” or ‘ ’), which YAML does not read as quotes", false}}},
	{"curly-quotes-emergency.yaml", []want{{"5:16", "“111” is wrapped in curly quotes, which YAML keeps as part of the text", false}}},
	{"paragraph-de-indented.yaml", []want{{"10:5", "this line is indented less than the text above it, so it is no longer part of that text", false}}},
	{"windows-1252.yaml", []want{{"7:52", `this file is not saved as UTF-8: the byte 0xE9 here ("é" in Windows-1252)`, false}}},
	{"utf16-bom.yaml", []want{{"1:1", `this file is saved as UTF-16 ("Unicode" in Notepad); save it again as UTF-8`, false}}},
	{"stray-key-in-answer.yaml", []want{{"9:7", `a line of the answer of "nightmares" starts with "related:", which looks like a key indented too far`, false}}},
	{"dash-missing.yaml", []want{{"12:5", "a new entry seems to start here without its '- ': its 7 keys repeat those of the entry above; write '- id: sweating'", false}}},
	{"amount-in-words.yaml", []want{
		{"10:7", `names an amount in words ("half a teaspoon")`, false},
		{"11:7", `names an amount in words ("one capsule")`, false},
		{"11:7", `gives a schedule ("every three days")`, false},
	}},
	{"phone-in-answer.yaml", []want{{"9:7", `the answer of "getting-help" has a phone number ("1-800-662-4357")`, false}}},
	{"link-in-answer.yaml", []want{{"10:7", `the answer of "getting-help" has a web address ("https://www.samhsa.gov/find-help")`, false}}},
	{"vocabulary-unused.yaml", []want{{"3:12", `vocabulary entry "restles legs" is used by no topic`, true}}},
	{"emergency-words.yaml", []want{{"5:16", `emergency "call the guards" of region IE has no number in it`, false}}},
	{"places-collide.yaml", []want{
		{"5:22", `place "London" is listed under region UK too`, false},
		{"5:30", `place "Dublin" is listed twice in region IE`, false},
		{"5:38", `place "United Kingdom" of region IE is the name of region UK`, false},
	}},
	{"people-collide.yaml", []want{
		{"6:21", `people's word "dublin" is listed twice in region IE`, false},
		{"6:29", `people's word "scots" is listed under region UK too`, false},
	}},
	{"scripts-wrong.yaml", []want{
		{"5:15", `region IE names the script "thai", which is not a Unicode script name`, false},
		{"5:27", `script "Thai" is listed under region IE too`, false},
	}},
	{"language-wrong.yaml", []want{
		{"5:16", `region IE lists "Dia" as a word of its language; list single lowercase words`, false},
		{"5:21", `region IE lists "go raibh" as a word of its language`, false},
		{"5:40", `the word "conas" is listed under region IE's language too`, false},
	}},
	{"after-town-wrong.yaml", []want{
		{"5:18", `region IE has "Cork" in after_town; write one abbreviation in small letters`, false},
		{"5:24", `region IE has "co cork" in after_town`, false},
		{"5:37", `"kk" is listed twice in after_town of region IE`, false},
	}},
	{"examples-clash.yaml", []want{
		{"9:9", `the example "Bad dreams wake me up" is listed twice in topic "nightmares" (first at line 8)`, false},
		{"10:9", `the example "i lie awake all night since i stopped" of topic "nightmares" is also an example of topic "sleep"`, false},
		{"11:9", `topic "nightmares" has an empty example`, false},
		{"18:5", `the example "some days i want to die" of not_crisis is also an example of crisis category "suicide"`, false},
	}},
	{"list-on-key-line.yaml", []want{{"6:12", "a list cannot start on the same line as its key", false}}},
	{"bracket-extra.yaml", []want{{"6:36", "this line closes a list with ] (or }) once too often", false}}},
	{"key-at-dash-level.yaml", []want{{"5:3", "this line is indented like the '- ' of the entries (2 spaces) but does not start with '- '; if it belongs to the entry above, indent it 4 spaces", false}}},
	{"quote-inside-quotes.yaml", []want{{"4:12", `the text goes on after its closing quote; to put a " inside "...", write \"`, false}}},
	{"apostrophe-in-single-quotes.yaml", []want{{"4:12", "to put an apostrophe inside '...', write it twice ('')", false}}},
	{"key-over-indented.yaml", []want{{"5:7", "this line is indented more (6 spaces) than the line above (4)", false}}},
	{"key-no-space.yaml", []want{{"4:5", "a key needs a space after its ':': write 'title: Nightmares'", false}}},
	{"dash-no-space.yaml", []want{{"3:3", "a '-' that starts an entry needs a space after it: write '- id: nightmares'", false}}},
	{"crisis-message-phone.yaml", []want{{"7:7", `the message of crisis category "poisoning" has a phone number ("1-800-222-1222")`, false}}},
	{"crisis-no-examples.yaml", []want{{"3:5", `crisis category "poisoning" has no examples`, false}}},
	{"crisis-cut.yaml", []want{{"3:5", "crisis categories missing after this one: self-harm, harm-to-others, overdose, seizure, medical-emergency; without them a message about", false}}},
	{"crisis-wrong-contact.yaml", []want{{"19:14", `crisis category "overdose" must show the emergency number first (contact: emergency)`, false}}},

	// crisis categories, vocabulary, examples
	{"crisis-no-phrases.yaml", []want{{"6:14", `crisis category "poisoning" has no phrases, so it can never be noticed`, false}}},
	{"crisis-bad-contact.yaml", []want{{"4:14", `contact of crisis category "poisoning" must be crisis or emergency, not "poison control"`, false}}},
	{"synonym-twice.yaml", []want{{"4:13", `"wd" is already mapped to "withdrawal"`, false}}},
	{"example-missing-topic.yaml", []want{
		{"4:12", `example "bad dreams every night" expects topic "nightmare", which does not exist`, false},
		{"6:11", `example "hello there" has kind "smalltalk"`, false},
	}},
}

// brokenWithout names the cases that replace a whole section of all.yaml,
// such as a crisis.yaml cut short: that section is left out of all.yaml.
var brokenWithout = map[string]string{
	"crisis-cut.yaml":           "categories",
	"crisis-wrong-contact.yaml": "categories",
}

// withoutSection removes a top-level key and its lines from a YAML file.
func withoutSection(t *testing.T, data []byte, key string) []byte {
	t.Helper()
	var out []string
	skip := false
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && l[0] != ' ' && l[0] != '#' {
			skip = strings.HasPrefix(l, key+":")
		}
		if !skip {
			out = append(out, l)
		}
	}
	if len(out) == strings.Count(string(data), "\n")+1 {
		t.Fatalf("all.yaml has no %q section", key)
	}
	return []byte(strings.Join(out, "\n"))
}

// fixedNow keeps review-date checks stable whatever the day.
func fixedNow(t *testing.T) {
	old := now
	now = func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
	t.Cleanup(func() { now = old })
}

func TestBrokenFiles(t *testing.T) {
	fixedNow(t)
	valid, err := os.ReadFile("testdata/minimal/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range brokenCases {
		t.Run(strings.TrimSuffix(tc.file, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(brokenDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			base := valid
			if sect, ok := brokenWithout[tc.file]; ok {
				base = withoutSection(t, valid, sect)
			}
			fsys := fstest.MapFS{"all.yaml": {Data: base}, tc.file: {Data: data}}
			b, ps := Check(fsys, brokenDir)
			name := path.Join(brokenDir, tc.file)
			checkProblems(t, ps, name, tc.want)

			errorsWanted := 0
			for _, w := range tc.want {
				if !w.warning {
					errorsWanted++
				}
			}
			_, lerr := Load(fsys, brokenDir)
			switch {
			case errorsWanted > 0 && (b != nil || lerr == nil):
				t.Errorf("a knowledge base with errors was accepted")
			case errorsWanted == 0 && (b == nil || lerr != nil):
				t.Errorf("warnings alone must not stop the bot: %v", lerr)
			case errorsWanted == 0 && len(b.Warnings) != len(tc.want):
				t.Errorf("Base.Warnings = %v", b.Warnings)
			}
		})
	}
}

// checkProblems compares problems with what is wanted, in any order: every
// wanted one at its exact position, and nothing else.
func checkProblems(t *testing.T, ps Problems, file string, wants []want) {
	t.Helper()
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	sort.Strings(got)
	used := make([]bool, len(ps))
	for _, w := range wants {
		prefix := file + ":" + w.at + ": "
		if w.warning {
			prefix += "warning: "
		}
		found := false
		for i, p := range ps {
			if !used[i] && strings.HasPrefix(p.String(), prefix) && strings.Contains(p.Message, w.message) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("want %s...%s\ngot:\n  %s", prefix, w.message, strings.Join(got, "\n  "))
		}
	}
	if len(ps) != len(wants) {
		t.Errorf("got %d problems, want %d:\n  %s", len(ps), len(wants), strings.Join(got, "\n  "))
	}
}

// TestBrokenFilesAreAllListed keeps the folder and the table in step.
func TestBrokenFilesAreAllListed(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range brokenCases {
		if listed[tc.file] {
			t.Errorf("%s is listed twice", tc.file)
		}
		listed[tc.file] = true
	}
	entries, err := os.ReadDir(brokenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && !listed[e.Name()] {
			t.Errorf("%s/%s is not in brokenCases", brokenDir, e.Name())
		}
		delete(listed, e.Name())
	}
	for f := range listed {
		t.Errorf("brokenCases lists %s, which is not in %s", f, brokenDir)
	}
}

// TestBrokenFolder checks the problems that concern the whole folder: they
// point at the folder, since no single line is wrong.
func TestBrokenFolder(t *testing.T) {
	fixedNow(t)
	dir := brokenDir + "/alone"
	_, ps := Check(os.DirFS(dir), dir)
	checkProblems(t, ps, dir, []want{
		{"1:1", "there are no regions", false},
		{"1:1", "no default_region is set", false},
		{"1:1", "there are no crisis categories", false},
		{"1:1", "there is no 'messages:' section", false},
	})
}

// TestStrayCopyIsOneProblem: a copy of a file ("all copy.yaml") would
// otherwise repeat every id, word and question of the original.
func TestStrayCopyIsOneProblem(t *testing.T) {
	fixedNow(t)
	dir := "testdata/copies"
	_, ps := Check(os.DirFS(dir), dir)
	checkProblems(t, ps, dir+"/all copy.yaml", []want{{"1:1", "this file repeats 3 entries of testdata/copies/all.yaml (topic restless-legs, ...), so it looks like a copy", false}})
}

// TestProblemFormat holds the one line format every message uses.
func TestProblemFormat(t *testing.T) {
	p := Problem{Pos: Position{File: "knowledge/faq.yaml", Line: 12, Col: 5}, Message: "what is wrong; how to fix it"}
	if got := p.String(); got != "knowledge/faq.yaml:12:5: what is wrong; how to fix it" {
		t.Errorf("error format: %q", got)
	}
	p.Warning = true
	if got := p.String(); got != "knowledge/faq.yaml:12:5: warning: what is wrong; how to fix it" {
		t.Errorf("warning format: %q", got)
	}
	ps := Problems{p, {Pos: Position{File: "a.yaml", Line: 1, Col: 1}, Message: "broken"}}
	if ps.Errors() != 1 || ps.Error() != "a.yaml:1:1: broken" {
		t.Errorf("Problems.Error() should list errors only: %q (%d)", ps.Error(), ps.Errors())
	}
}
