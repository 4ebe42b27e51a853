package feedback

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy forwards TCP to a PostgreSQL on 127.0.0.1 and can be partitioned:
// then nothing passes either way (connections stay open, silent), as when a
// network drops packets.
type proxy struct {
	ln    net.Listener
	to    string
	cut   atomic.Bool
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, to string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, to: to}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.to)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(from, to net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		for p.cut.Load() { // partitioned: hold what came, send nothing
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				to.Close()
			}
			return
		}
	}
}

// A PostgreSQL partitioned while the bot runs: region look-ups stop
// waiting on it, chosen regions hold, and the store comes back by itself.
func TestStorePostgresPartitionedMidRun(t *testing.T) {
	spec := postgresSpec(t)
	u, err := url.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	s := startT(t, u.String(), Options{Timeout: 300 * time.Millisecond})
	waitFor(t, "the store to come up", func() bool { return s.State() == StateUp })
	ctx := context.Background()
	s.SetChatRegion(ctx, "telegram:1", "UK")
	flush(t, s)

	p.cut.Store(true)
	s.Record(ctx, shown("telegram", "sleep"))
	begin := time.Now()
	if _, ok, err := s.ChatRegion(ctx, "telegram:2"); ok || err != nil {
		t.Errorf("a look-up on a partitioned store: ok=%v err=%v", ok, err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("a look-up waited %v", d)
	}
	waitFor(t, "the store to be marked unavailable", func() bool { return s.State() == StateUnavailable })
	begin = time.Now()
	if r, ok, _ := s.ChatRegion(ctx, "telegram:3"); ok || r != "" {
		t.Errorf("unknown chat: %q", r)
	}
	if r, ok, _ := s.ChatRegion(ctx, "telegram:1"); r != "UK" || !ok {
		t.Errorf("a chat's region during the partition = %q %v, want UK", r, ok)
	}
	if d := time.Since(begin); d > 100*time.Millisecond {
		t.Errorf("look-ups on a store known to be down took %v", d)
	}

	p.cut.Store(false)
	waitFor(t, "the store to come back", func() bool { return s.State() == StateUp })
	s.Record(ctx, shown("telegram", "restless-legs"))
	flush(t, s)
	found := false
	for _, tp := range report(t, s).Topics {
		found = found || tp.Topic == "restless-legs"
	}
	if !found {
		t.Error("counting did not resume after the partition")
	}
}
