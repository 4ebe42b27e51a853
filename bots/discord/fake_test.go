package discord

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeDiscord is Discord's REST API and gateway, as much as the adapter
// uses, on 127.0.0.1: GET /gateway, GET /oauth2/applications/@me, PUT
// commands, POST interaction callbacks, and a gateway that says Hello,
// takes Identify or Resume, sends READY or RESUMED, acknowledges heartbeats
// and pushes the events a test gives it.
type fakeDiscord struct {
	t     *testing.T
	srv   *httptest.Server
	token string // the bot token it accepts

	registerStatus   int          // when set, command registration fails with it
	registerFailures atomic.Int32 // registrations still to fail with 502
	mu               sync.Mutex
	callbackFail     []int // statuses for the next callbacks, in order

	registrations chan request // PUT .../commands
	callbacks     chan request // POST /interactions/{id}/{token}/callback
	edits         chan request // PATCH /webhooks/{app}/{token}/messages/@original
	handshakes    chan gatewayOp
	push          chan []byte // INTERACTION_CREATE payloads for the connection
	drop          chan struct{}
	appLookups    atomic.Int32
	gatewayGets   atomic.Int32

	seq  atomic.Int64
	done chan struct{}
	wg   sync.WaitGroup
}

type request struct {
	path string
	auth string
	body []byte
}

type gatewayOp struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
}

const fakeApp = "999999999999999999"

func newFakeDiscord(t *testing.T, token string) *fakeDiscord {
	f := &fakeDiscord{
		t: t, token: token,
		registrations: make(chan request, 10), callbacks: make(chan request, 100), edits: make(chan request, 100),
		handshakes: make(chan gatewayOp, 10), push: make(chan []byte), drop: make(chan struct{}),
		done: make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v9/gateway", func(w http.ResponseWriter, r *http.Request) {
		f.gatewayGets.Add(1)
		fmt.Fprintf(w, `{"url":"ws://%s/ws"}`, r.Host)
	})
	mux.HandleFunc("GET /api/v9/oauth2/applications/@me", func(w http.ResponseWriter, r *http.Request) {
		f.appLookups.Add(1)
		if !f.authorised(w, r) {
			return
		}
		fmt.Fprintf(w, `{"id":%q,"name":"kratombot"}`, fakeApp)
	})
	commands := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.registrations <- request{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body}
		if f.registerFailures.Add(-1) >= 0 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if f.registerStatus != 0 {
			w.WriteHeader(f.registerStatus)
			fmt.Fprint(w, `{"message":"401: Unauthorized","code":0}`)
			return
		}
		if !f.authorised(w, r) {
			return
		}
		var cmds []map[string]any
		_ = json.Unmarshal(body, &cmds)
		for i, c := range cmds {
			c["id"] = fmt.Sprint(1000 + i)
			c["application_id"] = r.PathValue("app")
		}
		_ = json.NewEncoder(w).Encode(cmds)
	}
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", commands)
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", commands)
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.callbacks <- request{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body}
		f.mu.Lock()
		status := http.StatusNoContent
		if len(f.callbackFail) > 0 {
			status, f.callbackFail = f.callbackFail[0], f.callbackFail[1:]
		}
		f.mu.Unlock()
		switch status {
		case http.StatusTooManyRequests:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprint(w, `{"message":"You are being rate limited.","retry_after":0.01,"global":false}`)
		case http.StatusNoContent:
			w.WriteHeader(status)
		default:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"message":"Unknown interaction","code":10062,"echo":"SHOULD-NOT-BE-LOGGED"}`)
		}
	})
	// Editing the deferred response: Discord answers 200 with the message.
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{msg}", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.edits <- request{path: r.URL.Path, auth: r.Header.Get("Authorization"), body: body}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"1","content":""}`)
	})
	mux.HandleFunc("GET /ws/", f.gateway) // discordgo adds the slash
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake Discord: unexpected %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.close)
	return f
}

func (f *fakeDiscord) close() {
	close(f.done)
	f.srv.Close()
	f.wg.Wait()
}

func (f *fakeDiscord) authorised(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("Authorization") != "Bot "+f.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"401: Unauthorized","code":0}`)
		return false
	}
	return true
}

// client is an HTTP client that sends what discordgo addresses to
// discord.com to the fake instead (its endpoints are fixed at init).
func (f *fakeDiscord) client() *http.Client {
	u, _ := url.Parse(f.srv.URL)
	return &http.Client{Transport: rewrite{to: u, base: f.srv.Client().Transport}}
}

type rewrite struct {
	to   *url.URL
	base http.RoundTripper
}

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != "discord.com" {
		return nil, fmt.Errorf("test: refusing to reach %s", r.URL.Host)
	}
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rw.to.Scheme, rw.to.Host, rw.to.Host
	return rw.base.RoundTrip(r)
}

var upgrader = websocket.Upgrader{}

// gateway serves one gateway connection.
func (f *fakeDiscord) gateway(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") != "9" || r.URL.Query().Get("encoding") != "json" {
		f.t.Errorf("gateway query %q", r.URL.RawQuery)
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.wg.Add(1)
	defer f.wg.Done()
	defer c.Close()
	var wmu sync.Mutex
	send := func(v any) error {
		wmu.Lock()
		defer wmu.Unlock()
		return c.WriteJSON(v)
	}
	if send(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": 45000}}) != nil {
		return
	}
	var hello gatewayOp
	if c.ReadJSON(&hello) != nil {
		return
	}
	f.handshakes <- hello
	switch hello.Op {
	case 2:
		err = send(map[string]any{"op": 0, "t": "READY", "s": f.seq.Add(1), "d": map[string]any{
			"v": 9, "session_id": "fake-session", "resume_gateway_url": "ws://" + r.Host + "/ws",
			"user":        map[string]any{"id": fakeApp, "username": "kratombot", "bot": true},
			"application": map[string]any{"id": fakeApp, "flags": 0}, "guilds": []any{},
		}})
	case 6:
		err = send(map[string]any{"op": 0, "t": "RESUMED", "s": f.seq.Add(1), "d": map[string]any{}})
	default:
		f.t.Errorf("gateway: first op %d", hello.Op)
		return
	}
	if err != nil {
		return
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			var op gatewayOp
			if c.ReadJSON(&op) != nil {
				return
			}
			if op.Op == 1 {
				_ = send(map[string]any{"op": 11})
			}
		}
	}()
	for {
		select {
		case p := <-f.push:
			if send(map[string]any{"op": 0, "t": "INTERACTION_CREATE", "s": f.seq.Add(1), "d": json.RawMessage(p)}) != nil {
				return
			}
		case <-f.drop:
			// Drop the TCP connection without a close frame, like a network fault.
			c.NetConn().Close()
			<-closed
			return
		case <-closed:
			return
		case <-f.done:
			return
		}
	}
}

func (f *fakeDiscord) send(t *testing.T, payload []byte) {
	t.Helper()
	select {
	case f.push <- payload:
	case <-timeout():
		t.Fatal("timed out pushing an event to the gateway")
	}
}

func timeout() <-chan time.Time { return time.After(10 * time.Second) }

// waitFor polls cond until it holds; for things with no event to wait on.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
