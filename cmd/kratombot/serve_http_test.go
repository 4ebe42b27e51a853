package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// startHTTP serves h like serve does, with short timeouts.
func startHTTP(t *testing.T, h http.Handler) string {
	t.Helper()
	old := []time.Duration{httpReadHeaderTimeout, httpReadTimeout, httpWriteTimeout, httpIdleTimeout}
	httpReadHeaderTimeout, httpReadTimeout, httpWriteTimeout, httpIdleTimeout = 300*time.Millisecond, 300*time.Millisecond, 2*time.Second, 300*time.Millisecond
	srv := newHTTPServer(h)
	httpReadHeaderTimeout, httpReadTimeout, httpWriteTimeout, httpIdleTimeout = old[0], old[1], old[2], old[3]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func echoMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			var tooBig *http.MaxBytesError
			if errorsAs(err, &tooBig) {
				http.Error(w, "too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "ok")
	})
	return mux
}

func TestHTTPBodyLimit(t *testing.T) {
	addr := startHTTP(t, echoMux())
	big := bytes.Repeat([]byte("x"), 2<<20)
	resp, err := http.Post("http://"+addr+"/hook", "application/json", bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB body got %d, want 413", resp.StatusCode)
	}
	// without a length (chunked), the handler sees *http.MaxBytesError
	resp, err = http.Post("http://"+addr+"/hook", "application/json", io.MultiReader(bytes.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked 2 MiB body got %d, want 413", resp.StatusCode)
	}
	resp, err = http.Post("http://"+addr+"/hook", "application/json", strings.NewReader(`{"ok":true}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("a small body got %d", resp.StatusCode)
	}
}

// closedWithin says whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF: the server closed it; a timeout is an error
}

func TestHTTPSlowAndIdleClientsAreCut(t *testing.T) {
	addr := startHTTP(t, echoMux())
	// a body that never comes
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	io.WriteString(slow, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	if !closedWithin(slow, 20*time.Second) {
		t.Error("a client sending its body slowly holds the connection")
	}
	// an idle keep-alive connection
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	io.WriteString(idle, "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
	resp, err := http.ReadResponse(bufio.NewReader(idle), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first request: %v %v", resp, err)
	}
	if !closedWithin(idle, 20*time.Second) {
		t.Error("an idle keep-alive connection is held")
	}
	// huge headers
	resp2, err := http.DefaultClient.Do(func() *http.Request {
		r, _ := http.NewRequest("POST", "http://"+addr+"/hook", strings.NewReader("hi"))
		r.Header.Set("X-Big", strings.Repeat("a", 64<<10))
		return r
	}())
	if err == nil {
		resp2.Body.Close()
		if resp2.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("64 KiB of headers got %d, want 431", resp2.StatusCode)
		}
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// serve with KRATOMBOT_METRICS_ADDR: metrics only on the private address,
// health on both, and the public one refuses big bodies with 413.
func TestServeMetricsAddr(t *testing.T) {
	fakeOn.Store(true)
	defer fakeOn.Store(false)
	for _, v := range []string{"TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY", "KRATOMBOT_STORE", "KRATOMBOT_HTTP_ADDR", "KRATOMBOT_METRICS_ADDR"} {
		t.Setenv(v, "")
	}
	stderr, stop := serveUntilStopped(t, "--knowledge", minimalDir, "--http-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", "--log-format", "json")
	addrRe := regexp.MustCompile(`"msg":"http listening","addr":"([^"]+)","for":"([^"]+)"`)
	addrs := map[string]string{}
	waitFor(t, "serve to listen twice", func() bool {
		for _, m := range addrRe.FindAllStringSubmatch(stderr.String(), -1) {
			addrs[m[2]] = "http://" + m[1]
		}
		return len(addrs) == 2
	})
	public, private := addrs["webhooks and health checks"], addrs["metrics and health checks"]
	status := func(method, url string, body io.Reader) int {
		req, _ := http.NewRequest(method, url, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(t, "/readyz on the private address", func() bool { return status("GET", private+"/readyz", nil) == 200 })
	if c := status("GET", public+"/metrics", nil); c != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404", c)
	}
	if c := status("GET", private+"/metrics", nil); c != 200 {
		t.Errorf("private /metrics = %d", c)
	}
	if c := status("GET", public+"/healthz", nil); c != 200 {
		t.Errorf("public /healthz = %d", c)
	}
	if c := status("POST", public+"/telegram/webhook", bytes.NewReader(bytes.Repeat([]byte("x"), 2<<20))); c != http.StatusRequestEntityTooLarge {
		t.Errorf("a 2 MiB body = %d, want 413", c)
	}
	if code := stop(); code != 0 {
		t.Fatalf("serve exit %d:\n%s", code, stderr.String())
	}
}
