package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/kratombot/kratombot/bots"
	"github.com/kratombot/kratombot/feedback"
	"github.com/kratombot/kratombot/knowledge"
	"github.com/kratombot/kratombot/metrics"
	"github.com/kratombot/kratombot/redact"
)

// waitFor polls cond; the limit only guards against hanging forever.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testDeps(t *testing.T, dir string, logs io.Writer) *deps {
	t.Helper()
	b, err := knowledge.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e, err := bots.New(b)
	if err != nil {
		t.Fatal(err)
	}
	red := redact.New()
	return &deps{
		engine: e, log: slog.New(red.Handler(slog.NewTextHandler(logs, nil))), redactor: red, mux: http.NewServeMux(),
		recorder: bots.Recorders{metrics.Recorder{}}, regions: &bots.MemoryRegions{},
	}
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func copyMinimal(t *testing.T) (dir string, src []byte) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(minimalDir, "all.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	writeFile(t, dir, "all.yaml", string(src))
	return dir, src
}

func TestOpsHealthReadyMetrics(t *testing.T) {
	var logs botstest.Log
	d := testDeps(t, minimalDir, &logs)
	o, err := setupOps(context.Background(), d, "", opsFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()

	if code, body := get(t, d.mux, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, _ := get(t, d.mux, "/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the platforms start = %d, want 503", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.started(ctx)
	if code, body := get(t, d.mux, "/readyz"); code != 200 || !strings.Contains(body, d.engine.Version()) {
		t.Errorf("/readyz once started = %d %q", code, body)
	}
	code, body := get(t, d.mux, "/metrics")
	if code != 200 || !strings.Contains(body, `kratombot_knowledge_info{version="`+d.engine.Version()+`"} 1`) {
		t.Errorf("/metrics = %d, knowledge version missing:\n%.2000s", code, body)
	}
	cancel() // shutting down
	waitFor(t, "/readyz to turn 503 on shutdown", func() bool {
		code, _ := get(t, d.mux, "/readyz")
		return code == http.StatusServiceUnavailable
	})
	if d.feedback {
		t.Error("no store is configured, so no feedback buttons")
	}
	if _, ok := d.regions.(*bots.MemoryRegions); !ok {
		t.Errorf("no store: regions should stay in memory, got %T", d.regions)
	}
}

func TestOpsStore(t *testing.T) {
	var logs botstest.Log
	d := testDeps(t, minimalDir, &logs)
	path := filepath.Join(t.TempDir(), "feedback.db")
	o, err := setupOps(context.Background(), d, "", opsFlags{store: path})
	if err != nil {
		t.Fatal(err)
	}
	if !d.feedback {
		t.Error("with a store, the platforms should show \"Was this helpful?\"")
	}
	ctx := context.Background()
	if err := d.regions.SetChatRegion(ctx, "telegram:42", "UK"); err != nil {
		t.Fatal(err)
	}
	r, _ := d.engine.Answer(ctx, bots.Question{Text: "what is the capital of peru, ask bob@example.com"})
	d.recorder.Record(ctx, bots.NewEvent("telegram", bots.Question{Text: "what is the capital of peru, ask bob@example.com"}, r))
	helpful := true
	d.recorder.Record(ctx, bots.Event{Platform: "telegram", Topic: "sleep", Helpful: &helpful})
	if _, body := get(t, d.mux, "/metrics"); !strings.Contains(body, "kratombot_store_dropped_total 0") {
		t.Errorf("/metrics lacks the store's drop counter")
	}
	o.close()
	if strings.Contains(logs.String(), "peru") || strings.Contains(logs.String(), "example.com") {
		t.Errorf("the log shows what was written:\n%s", logs.String())
	}

	st, err := feedback.Open(ctx, path, feedback.Options{KeyFile: feedback.DefaultKeyFile(path)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	rep, err := st.Report(ctx, time.Now().AddDate(0, 0, -1), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unanswered) != 1 || rep.Unanswered[0].Question != "what is the capital of [?], ask [email]" {
		t.Errorf("unanswered = %+v", rep.Unanswered)
	}
	if len(rep.Topics) != 1 || rep.Topics[0].Helpful != 1 {
		t.Errorf("topics = %+v", rep.Topics)
	}
	if region, ok, _ := st.ChatRegion(ctx, "telegram:42"); !ok || region != "UK" {
		t.Errorf("the chat's region was not kept: %q %v", region, ok)
	}
}

// A store that cannot be reached at start does not stop serve: it answers
// without it, says so on /readyz and in the metrics, and never shows the
// password.
func TestOpsStoreDownAtStart(t *testing.T) {
	var logs botstest.Log
	d := testDeps(t, minimalDir, &logs)
	o, err := setupOps(context.Background(), d, "", opsFlags{
		store:    "postgres://bot:Sup3r-Secret-pw@127.0.0.1:1/kb?connect_timeout=2",
		storeKey: "a-key-of-at-least-thirty-two-characters",
	})
	if err != nil {
		t.Fatalf("a store that cannot be reached must not stop serve: %v", err)
	}
	defer o.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.started(ctx)
	waitFor(t, "a warning about the store", func() bool { return strings.Contains(logs.String(), "feedback store unavailable") })
	if code, body := get(t, d.mux, "/readyz"); code != 200 || !strings.Contains(body, "store unavailable") {
		t.Errorf("/readyz with the store down = %d %q, want 200 saying store unavailable", code, body)
	}
	if _, body := get(t, d.mux, "/metrics"); !strings.Contains(body, "kratombot_store_up 0") {
		t.Error("/metrics does not show the store is down")
	}
	// a chat's choice holds while the store is down
	if err := d.regions.SetChatRegion(ctx, "telegram:42", "UK"); err != nil {
		t.Fatal(err)
	}
	if r, ok, _ := d.regions.ChatRegion(ctx, "telegram:42"); r != "UK" || !ok {
		t.Errorf("region during the outage = %q %v", r, ok)
	}
	if strings.Contains(logs.String(), "Sup3r-Secret-pw") {
		t.Errorf("the log shows the password:\n%s", logs.String())
	}
}

func TestOpsPostgresNeedsAKey(t *testing.T) {
	d := testDeps(t, minimalDir, io.Discard)
	_, err := setupOps(context.Background(), d, "", opsFlags{store: "postgres://bot:Sup3r-Secret-pw@127.0.0.1:1/kb"})
	if err == nil || !strings.Contains(err.Error(), "KRATOMBOT_STORE_KEY") || strings.Contains(err.Error(), "Sup3r") {
		t.Errorf("PostgreSQL without KRATOMBOT_STORE_KEY: %v", err)
	}
	_, err = setupOps(context.Background(), testDeps(t, minimalDir, io.Discard), "", opsFlags{store: "f.db", storeKey: "short"})
	if err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a short key: %v", err)
	}
}

// /readyz is ready only once every configured platform has connected.
func TestOpsReadyWaitsForEveryPlatform(t *testing.T) {
	d := testDeps(t, minimalDir, io.Discard)
	o, err := setupOps(context.Background(), d, "", opsFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.expect([]string{"telegram", "discord"})
	o.started(ctx)
	d.connected("discord")
	if code, body := get(t, d.mux, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "telegram") {
		t.Errorf("/readyz before Telegram connected = %d %q", code, body)
	}
	d.connected("telegram")
	if code, _ := get(t, d.mux, "/readyz"); code != 200 {
		t.Errorf("/readyz once both connected = %d", code)
	}
	d.connected("telegram") // reconnects change nothing
	if code, _ := get(t, d.mux, "/readyz"); code != 200 {
		t.Errorf("/readyz after a reconnect = %d", code)
	}
}

// KRATOMBOT_METRICS_ADDR moves /metrics off the public address.
func TestOpsPrivateMetrics(t *testing.T) {
	d := testDeps(t, minimalDir, io.Discard)
	o, err := setupOps(context.Background(), d, "", opsFlags{metricsAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o.started(ctx)
	if code, _ := get(t, d.mux, "/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on the public address = %d, want 404", code)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		if code, _ := get(t, o.private, path); code != 200 {
			t.Errorf("%s on the private address = %d", path, code)
		}
	}
}

func TestOpsReloadOnEditAndSIGHUP(t *testing.T) {
	dir, src := copyMinimal(t)
	var logs botstest.Log
	d := testDeps(t, dir, &logs)
	o, err := setupOps(context.Background(), d, dir, opsFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	before := d.engine.Version()

	// a broken edit: logged with file:line, old answers kept
	writeFile(t, dir, "all.yaml", strings.Replace(string(src), "related: [restless-legs]", "related: [restless-leg]", 1))
	waitFor(t, "the broken edit to be logged", func() bool {
		return strings.Contains(logs.String(), "knowledge edit rejected: "+filepath.Join(dir, "all.yaml")+":")
	})
	if d.engine.Version() != before {
		t.Fatal("a broken edit was swapped in")
	}
	// a good edit: picked up, no restart
	writeFile(t, dir, "all.yaml", strings.Replace(string(src), "They usually ease with time.", "They usually get better with time.", 1))
	waitFor(t, "the edit to be picked up", func() bool { return d.engine.Version() != before })
	r, _ := d.engine.Open(context.Background(), "sleep", "")
	if !strings.Contains(r.Text(), "get better with time") {
		t.Errorf("the new answer is not in use: %q", r.Text())
	}
	if _, body := get(t, d.mux, "/metrics"); !strings.Contains(body, `kratombot_knowledge_info{version="`+d.engine.Version()+`"} 1`) {
		t.Error("/metrics does not show the new knowledge version")
	}

	// SIGHUP asks for a reload (the signal is caught, not fatal)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP to reload", func() bool { return strings.Contains(logs.String(), "SIGHUP: reloading the knowledge") })
}

func TestOpsBuiltInKnowledgeIsNotWatched(t *testing.T) {
	var logs botstest.Log
	d := testDeps(t, minimalDir, &logs)
	o, err := setupOps(context.Background(), d, "", opsFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if o.reload != nil {
		t.Error("the built-in knowledge must not be watched")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "SIGHUP to be answered", func() bool { return strings.Contains(logs.String(), "cannot be reloaded") })
}

// fakeOn turns on a platform that only the serve test uses: it answers one
// question through the deps, the way the real adapters do, and waits.
var (
	fakeOn   atomic.Bool
	fakeDeps atomic.Pointer[deps]
)

func init() {
	platforms = append(platforms, func(d *deps) (string, runner, error) {
		if !fakeOn.Load() {
			return "fake", nil, nil
		}
		return "fake", func(ctx context.Context) error {
			fakeDeps.Store(d)
			d.connected("fake")
			q := bots.Question{Text: "cant sleep"}
			r, err := d.engine.Answer(ctx, q)
			if err != nil {
				return err
			}
			d.recorder.Record(ctx, bots.NewEvent("fake", q, r))
			<-ctx.Done()
			return nil
		}, nil
	})
}

// TestServeOps runs `kratombot serve` with the ops settings and a fake
// platform: health, readiness and metrics over HTTP, the store filled, the
// knowledge reloaded on an edit, and a clean stop.
func TestServeOps(t *testing.T) {
	fakeOn.Store(true)
	defer fakeOn.Store(false)
	for _, v := range []string{"TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY", "KRATOMBOT_STORE", "KRATOMBOT_HTTP_ADDR"} {
		t.Setenv(v, "")
	}
	dir, src := copyMinimal(t)
	store := filepath.Join(t.TempDir(), "f.db")
	stderr, stop := serveUntilStopped(t, "--knowledge", dir, "--store", store, "--http-addr", "127.0.0.1:0", "--log-format", "json")
	addrRe := regexp.MustCompile(`"msg":"http listening","addr":"([^"]+)"`)
	var base string
	waitFor(t, "serve to listen", func() bool {
		if m := addrRe.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
			return true
		}
		return false
	})
	httpGet := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, "/readyz", func() bool { code, _ := httpGet("/readyz"); return code == 200 })
	if code, _ := httpGet("/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	waitFor(t, "the fake platform to answer", func() bool { return fakeDeps.Load() != nil })
	d := fakeDeps.Load()
	if !d.feedback {
		t.Error("serve --store should turn on the feedback buttons")
	}
	before := d.engine.Version()
	writeFile(t, dir, "all.yaml", strings.Replace(string(src), "They usually ease with time.", "It gets easier.", 1))
	waitFor(t, "the edit to reach the running bot", func() bool { return d.engine.Version() != before })
	_, metricsBody := httpGet("/metrics")
	for _, want := range []string{`kratombot_replies_total{intent="topic",kind="answer",platform="fake"}`, `kratombot_knowledge_reloads_total{result="ok"}`} {
		if !strings.Contains(metricsBody, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "cant sleep") {
		t.Error("the log shows what a person wrote")
	}
	code, out, errs := kb(t, "report", "--store", store, "--knowledge", dir)
	if code != 0 || !regexp.MustCompile(`(?m)^\s+1\s+sleep$`).MatchString(out) {
		t.Errorf("report after serve: exit %d\n%s%s", code, out, errs)
	}
}
