package discord

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kratombot/kratombot/bots/botstest"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/bots"
)

// testKey is a fixed Ed25519 key standing in for Discord's.
var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))

func signed(body []byte, at time.Time, key ed25519.PrivateKey) *http.Request {
	ts := strconv.FormatInt(at.Unix(), 10)
	r := httptest.NewRequest(http.MethodPost, EndpointPath, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Signature-Timestamp", ts)
	r.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(key, append([]byte(ts), body...))))
	return r
}

func testEndpoint(t *testing.T, opt Options) (http.Handler, *botstest.Events) {
	t.Helper()
	rec := &botstest.Events{}
	opt.Recorder = rec
	b := &Bot{
		Config:  Config{PublicKey: testKey.Public().(ed25519.PublicKey)},
		Handler: NewHandler(minimalEngine(t), opt),
	}
	return b.Endpoint(), rec
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHTTPRejects(t *testing.T) {
	h, rec := testEndpoint(t, Options{})
	ping := []byte(`{"id":"1","application_id":"2","type":1,"token":"t","version":1}`)
	_, otherKey, _ := ed25519.GenerateKey(nil)
	now := time.Now()
	tests := []struct {
		name string
		req  func() *http.Request
		code int
	}{
		{"unsigned", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, EndpointPath, bytes.NewReader(ping))
		}, http.StatusUnauthorized},
		{"signed by another key", func() *http.Request { return signed(ping, now, otherKey) }, http.StatusUnauthorized},
		{"signature not hex", func() *http.Request {
			r := signed(ping, now, testKey)
			r.Header.Set("X-Signature-Ed25519", "zz"+r.Header.Get("X-Signature-Ed25519")[2:])
			return r
		}, http.StatusUnauthorized},
		{"signature cut short", func() *http.Request {
			r := signed(ping, now, testKey)
			r.Header.Set("X-Signature-Ed25519", r.Header.Get("X-Signature-Ed25519")[:64])
			return r
		}, http.StatusUnauthorized},
		{"body changed after signing", func() *http.Request {
			r := signed(ping, now, testKey)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(ping, []byte(`"type":1`), []byte(`"type":2`), 1)))
			return r
		}, http.StatusUnauthorized},
		{"timestamp changed after signing", func() *http.Request {
			r := signed(ping, now, testKey)
			r.Header.Set("X-Signature-Timestamp", strconv.FormatInt(now.Unix()+1, 10))
			return r
		}, http.StatusUnauthorized},
		{"timestamp not a number", func() *http.Request {
			r := signed(ping, now, testKey)
			r.Header.Set("X-Signature-Timestamp", "yesterday")
			return r
		}, http.StatusUnauthorized},
		{"stale timestamp", func() *http.Request { return signed(ping, now.Add(-MaxSkew-time.Minute), testKey) }, http.StatusUnauthorized},
		{"timestamp in the future", func() *http.Request { return signed(ping, now.Add(MaxSkew+time.Minute), testKey) }, http.StatusUnauthorized},
		{"oversized body", func() *http.Request {
			return signed(append(ping, bytes.Repeat([]byte(" "), MaxBody)...), now, testKey)
		}, http.StatusRequestEntityTooLarge},
		{"oversized body without a length", func() *http.Request {
			r := signed(append(ping, bytes.Repeat([]byte(" "), MaxBody)...), now, testKey)
			r.ContentLength = -1
			return r
		}, http.StatusRequestEntityTooLarge},
		{"signed garbage", func() *http.Request { return signed([]byte("\x00not json"), now, testKey) }, http.StatusBadRequest},
		{"GET", func() *http.Request { return httptest.NewRequest(http.MethodGet, EndpointPath, nil) }, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(h, tt.req())
			if w.Code != tt.code {
				t.Errorf("status %d, want %d: %s", w.Code, tt.code, w.Body)
			}
		})
	}
	if evs := rec.All(); len(evs) != 0 {
		t.Errorf("rejected requests recorded events: %+v", evs)
	}
}

func TestHTTPPing(t *testing.T) {
	h, _ := testEndpoint(t, Options{})
	w := serve(h, signed([]byte(`{"id":"1","application_id":"2","type":1,"token":"t","version":1}`), time.Now(), testKey))
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"type":1}` {
		t.Fatalf("PING: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	// A timestamp a little off is fine: clocks drift.
	w = serve(h, signed([]byte(`{"id":"1","type":1,"token":"t"}`), time.Now().Add(-MaxSkew+time.Minute), testKey))
	if w.Code != http.StatusOK {
		t.Errorf("a 4-minute-old request: %d", w.Code)
	}
}

func TestHTTPCommands(t *testing.T) {
	h, rec := testEndpoint(t, Options{Feedback: true, Regions: &bots.MemoryRegions{}})
	tests := []struct {
		name     string
		body     []byte
		typ      discordgo.InteractionResponseType
		referral []string
		events   int
	}{
		{"ask", commandJSON("1", "ask", str("question", "cant sleep")), 4, usReferral, 1},
		{"ask crisis", commandJSON("2", "ask", str("question", "i want to die")), 4, usCrisisRef, 1},
		{"symptoms", commandJSON("3", "symptoms"), 4, usReferral, 1},
		{"symptoms topic", commandJSON("4", "symptoms", str("symptom", "sleep")), 4, usReferral, 1},
		{"treatment", commandJSON("5", "treatment", str("step", "see-a-professional")), 4, usReferral, 1},
		{"faq", commandJSON("6", "faq"), 4, usReferral, 1},
		{"resources", commandJSON("7", "resources", str("region", "UK")), 4, ukReferral, 1},
		{"help", commandJSON("8", "help"), 4, ukReferral, 1}, // the UK choice above is remembered
		{"privacy", commandJSON("9", "privacy"), 4, ukReferral, 1},
		{"button", componentJSON("10", "open:region:US"), 4, usReferral, 1},
		{"select", componentJSON("11", "open", "restless-legs"), 4, usReferral, 1},
		{"feedback", componentJSON("12", "fb:1:sleep"), 7, usReferral, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(rec.All())
			w := serve(h, signed(tt.body, time.Now(), testKey))
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			resp := decodeWire(t, w.Body.Bytes())
			if resp.Type != int(tt.typ) {
				t.Fatalf("type %d, want %d", resp.Type, tt.typ)
			}
			checkMessage(t, resp, tt.referral, true)
			if got := len(rec.All()) - before; got != tt.events {
				t.Errorf("%d events recorded, want %d", got, tt.events)
			}
		})
	}
}

func TestHTTPAutocomplete(t *testing.T) {
	h, rec := testEndpoint(t, Options{})
	for _, tt := range []struct {
		command, option, typed string
		want                   int
	}{
		{"symptoms", "symptom", "", 2},
		{"symptoms", "symptom", "restless", 1},
		{"treatment", "step", "", 1},
		{"faq", "topic", "", 0},
		{"resources", "region", "u", 2},
	} {
		w := serve(h, signed(autocompleteJSON(tt.command+tt.typed, tt.command, tt.option, tt.typed), time.Now(), testKey))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d", w.Code)
		}
		resp := decodeWire(t, w.Body.Bytes())
		if resp.Type != int(discordgo.InteractionApplicationCommandAutocompleteResult) || len(resp.Data.Choices) != tt.want {
			t.Errorf("%s %q: %s", tt.command, tt.typed, w.Body)
		}
		if !strings.Contains(w.Body.String(), `"choices":[`) {
			t.Errorf("no choices array: %s", w.Body)
		}
	}
	if len(rec.All()) != 0 {
		t.Error("autocomplete recorded events")
	}
}

// The endpoint as serve mounts it, on a real server on 127.0.0.1.
func TestHTTPOverTheNetwork(t *testing.T) {
	h, _ := testEndpoint(t, Options{})
	mux := http.NewServeMux()
	mux.Handle("POST "+EndpointPath, h)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	r := signed(commandJSON("1", "help"), time.Now(), testKey)
	req, err := http.NewRequest(http.MethodPost, srv.URL+EndpointPath, r.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	checkMessage(t, decodeWire(t, body), usReferral, true)
}
