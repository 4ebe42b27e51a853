package telegram

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestThirdPartyEmulator runs the bot against telegram-test-api, a Bot API
// emulator written by others, so that our fake is not the only server the
// adapter was tried on. It needs node and
// `npm ci --prefix bots/telegram/testdata/emulator`; without them it skips.
// The emulator answers getUpdates at once and ignores offsets (it hands out
// each update once), and answers 500 to setMyCommands.
func TestThirdPartyEmulator(t *testing.T) {
	if _, err := os.Stat("testdata/emulator/node_modules/telegram-test-api"); err != nil {
		t.Skip("telegram-test-api is not installed: npm ci --prefix bots/telegram/testdata/emulator")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	cmd := exec.Command(node, "emulator.js", strconv.Itoa(port))
	cmd.Dir = "testdata/emulator"
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // the script stops the server and exits
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			if s.Text() == "READY" {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("the emulator did not start: %s", stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the emulator did not start in time: %s", stderr.String())
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)

	h := newHarness(t, nil, func(c *Config, _ *Deps) {
		c.Endpoint = base + "/bot%s/%s"
		c.MinBackoff = 50 * time.Millisecond
	}).start()

	from := map[string]any{"id": 5, "first_name": "Pat", "is_bot": false}
	chat := map[string]any{"id": 5, "type": "private", "first_name": "Pat"}
	post := func(path string, body map[string]any) []map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		var out struct {
			Result []map[string]any `json:"result"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return out.Result
	}
	// botMessages waits for n messages from the bot in the chat.
	botMessages := func(n int) []map[string]any {
		t.Helper()
		var got []map[string]any
		end := time.Now().Add(10 * time.Second)
		for len(got) < n {
			if time.Now().After(end) {
				t.Fatalf("got %d bot messages, want %d; log:\n%s", len(got), n, h.logs.String())
			}
			for _, u := range post("/getUpdates", map[string]any{"token": testToken, "chatId": 5}) {
				if m, ok := u["message"].(map[string]any); ok {
					got = append(got, m)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return got
	}

	post("/sendMessage", map[string]any{"botToken": testToken, "from": from, "chat": chat, "date": time.Now().Unix(), "text": "/start"})
	m := botMessages(1)[0]
	if text, _ := m["text"].(string); !strings.Contains(text, "not medical advice") || !strings.Contains(text, "Get help") {
		t.Errorf("welcome: %q", text)
	}
	if m["parse_mode"] != "HTML" || m["reply_markup"] == nil {
		t.Errorf("welcome sent without HTML or buttons: %v", m)
	}

	post("/sendMessage", map[string]any{"botToken": testToken, "from": from, "chat": chat, "date": time.Now().Unix(), "text": "I cant sleep"})
	m = botMessages(1)[0]
	if text, _ := m["text"].(string); !strings.Contains(text, "Trouble sleeping") || !strings.Contains(text, "Get help") {
		t.Errorf("answer: %q", text)
	}

	post("/sendCallback", map[string]any{"botToken": testToken, "from": from, "date": time.Now().Unix(),
		"message": map[string]any{"message_id": 1, "chat": chat}, "data": "o:restless-legs"})
	m = botMessages(1)[0]
	if text, _ := m["text"].(string); !strings.Contains(text, "Restless legs") {
		t.Errorf("button: %q", text)
	}
	time.Sleep(200 * time.Millisecond)
	if extra := post("/getUpdates", map[string]any{"token": testToken, "chatId": 5}); len(extra) > 0 {
		t.Errorf("%d messages more than asked for: an update was answered twice", len(extra))
	}
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.logs.String(), "SECRETtoken") {
		t.Errorf("the token is in the log")
	}
}
