package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/feedback"
)

// fillStore writes a few days' worth of feedback the way serve would.
func fillStore(t *testing.T, spec string) {
	t.Helper()
	ctx := context.Background()
	st, err := feedback.Open(ctx, spec, feedback.Options{})
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, ev := range []bots.Event{
		{Platform: "telegram", Kind: bots.KindAnswer, Intent: bots.IntentTopic, Topic: "sleep"},
		{Platform: "telegram", Kind: bots.KindAnswer, Intent: bots.IntentTopic, Topic: "sleep"},
		{Platform: "discord", Kind: bots.KindAnswer, Intent: bots.IntentTopic, Topic: "restless-legs"},
		{Platform: "telegram", Topic: "sleep", Helpful: &yes},
		{Platform: "discord", Topic: "restless-legs", Helpful: &no},
		{Platform: "telegram", Kind: bots.KindFallback, Intent: bots.IntentFallback, Question: "does kratom show on a drug test, text me 555 0100"},
		{Platform: "discord", Kind: bots.KindFallback, Intent: bots.IntentFallback, Question: "Does kratom show on a drug test, text me 555 0199"},
		{Platform: "discord", Kind: bots.KindFallback, Intent: bots.IntentFallback, Question: "is it legal in texas"},
	} {
		st.Record(ctx, ev)
	}
	if err := st.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReport(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "feedback.db")
	fillStore(t, spec)
	code, out, errs := kb(t, "report", "--store", spec, "--knowledge", minimalDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{
		`(?m)^Feedback from the last 30 days \(since \d{4}-\d\d-\d\d\), sqlite store$`,
		`(?m)^  2\s+does kratom show on a drug test, text me #$`,
		`(?m)^  1\s+is it legal in \[\?\]$`,
		`(?m)^  restless-legs\s+1\s+0\s+1\s+0%$`,
		`(?m)^  2\s+sleep$`,
		`(?m)^  see-a-professional\s+Seeing a professional$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "555") {
		t.Errorf("the report shows a phone number:\n%s", out)
	}

	code, out, _ = kb(t, "report", "--store", "sqlite:"+spec, "--json", "--top", "1")
	var j struct {
		Unanswered []struct {
			Question string `json:"question"`
			Count    int    `json:"count"`
		} `json:"unanswered"`
		LeastHelpful []struct {
			Topic string `json:"topic"`
		} `json:"least_helpful"`
		NotReached []string `json:"not_reached"`
	}
	if err := json.Unmarshal([]byte(out), &j); code != 0 || err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if len(j.Unanswered) != 1 || j.Unanswered[0].Count != 2 || len(j.LeastHelpful) != 1 || j.LeastHelpful[0].Topic != "restless-legs" {
		t.Errorf("json report = %+v", j)
	}
}

// Rows an old kratombot let through (forged button data) cannot drive the
// operator's terminal: control characters are shown escaped.
func TestReportEscapesControlCharacters(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "feedback.db")
	fillStore(t, spec)
	db, err := sql.Open("sqlite", spec)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Format(time.DateOnly)
	if _, err := db.Exec(`INSERT INTO kratombot_topics VALUES (?, 'telegram', ?, 3, 0, 0)`, day, "evil\x1b]0;pwned\x07\x1b[2J\u202eroot"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO kratombot_unanswered VALUES (?, ?, 1)`, day, "q\x1b[31mred\xff"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errs := kb(t, "report", "--store", spec, "--knowledge", minimalDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e\xff") {
		t.Errorf("the report prints control characters raw:\n%q", out)
	}
	for _, want := range []string{`evil\x1b]0;pwned\x07\x1b[2J\u202eroot`, `q\x1b[31mred\xff`} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %s escaped:\n%s", want, out)
		}
	}
}

func TestReportErrors(t *testing.T) {
	t.Setenv("KRATOMBOT_STORE", "")
	missing := filepath.Join(t.TempDir(), "none.db")
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"report"}, 2, "KRATOMBOT_STORE"},
		{[]string{"report", "--store", missing}, 1, "there is no feedback store at " + missing + " yet"},
		{[]string{"report", "--store", "mysql://x/y"}, 1, "not known"},
		{[]string{"report", "--store", missing, "--days", "0"}, 2, "at least 1"},
	}
	for _, tt := range tests {
		code, _, errs := kb(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.stderr) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("report created a store file; it should only read")
	}
}

func TestReportPostgres(t *testing.T) {
	dsn := os.Getenv("KRATOMBOT_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("KRATOMBOT_TEST_POSTGRES_DSN is not set; `source .ci/postgres.sh` starts a throwaway PostgreSQL")
	}
	// its own schema, so earlier runs' counts do not show
	schema := "kratombot_report_test"
	admin, err := feedback.Open(context.Background(), dsn, feedback.Options{})
	if err != nil {
		t.Fatalf("KRATOMBOT_TEST_POSTGRES_DSN is set but unusable: %v", err)
	}
	admin.Close(context.Background())
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	spec := dsn + sep + "search_path=" + schema
	if err := execPostgres(dsn, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { execPostgres(dsn, "DROP SCHEMA IF EXISTS "+schema+" CASCADE") })
	fillStore(t, spec)
	code, out, errs := kb(t, "report", "--store", spec, "--knowledge", minimalDir)
	if code != 0 || !strings.Contains(out, "postgres store") || !regexp.MustCompile(`(?m)^  2\s+does kratom show on a drug test`).MatchString(out) {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	pw := ""
	if m := regexp.MustCompile(`://[^:/]+:([^@]+)@`).FindStringSubmatch(dsn); m != nil {
		pw = m[1]
	}
	if pw != "" && strings.Contains(out+errs, pw) {
		t.Error("the report shows the database password")
	}
}

func execPostgres(dsn, stmts string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range strings.Split(stmts, ";") {
		if _, err := db.Exec(s); err != nil {
			return err
		}
	}
	return nil
}
