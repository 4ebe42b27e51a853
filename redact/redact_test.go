package redact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"
)

const token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

func TestString(t *testing.T) {
	r := New(token, "", "abc") // empty and too-short secrets are ignored
	for in, want := range map[string]string{
		`Post "https://api.telegram.org/bot` + token + `/sendMessage": EOF`: `Post "https://api.telegram.org/bot[REDACTED]/sendMessage": EOF`,
		"nothing secret here, abc": "nothing secret here, abc",
		token + token:              Mask + Mask,
	} {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
	var nilR *Redactor
	if nilR.String("x") != "x" {
		t.Error("a nil Redactor passes text through")
	}
}

func TestLongestSecretFirst(t *testing.T) {
	r := New("secret", "secret-and-more")
	if got := r.String("secret-and-more"); got != Mask {
		t.Errorf("got %q", got)
	}
}

var errBase = errors.New("connection refused")

func TestError(t *testing.T) {
	r := New(token)
	err := fmt.Errorf("sending to /bot%s/getMe: %w", token, errBase)
	red := r.Error(err)
	if strings.Contains(red.Error(), token) || !errors.Is(red, errBase) {
		t.Fatalf("redacted error %q must hide the token and keep the chain", red)
	}
	plain := errors.New("no secret")
	if r.Error(plain) != plain || r.Error(nil) != nil {
		t.Error("errors without secrets pass unchanged")
	}
}

func TestHandler(t *testing.T) {
	var buf bytes.Buffer
	r := New(token)
	l := slog.New(r.Handler(slog.NewJSONHandler(&buf, nil)))
	l = l.With("url", "https://x/bot"+token)
	l.WithGroup("g").Error("failed with "+token,
		"err", fmt.Errorf("post bot%s: %w", token, errBase),
		slog.Group("req", "path", "/bot"+token+"/x"),
		"any", struct{ T string }{token},
		"n", 3)
	if strings.Contains(buf.String(), token) || !strings.Contains(buf.String(), Mask) {
		t.Fatalf("log leaks the token:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), `"n":3`) {
		t.Errorf("non-string attributes must survive: %s", buf.String())
	}
}

func TestWriter(t *testing.T) {
	var buf bytes.Buffer
	l := log.New(Writer{R: New(token), Out: &buf}, "", 0)
	l.Printf("GET /bot%s/getUpdates", token)
	if strings.Contains(buf.String(), token) {
		t.Fatalf("std log leaks: %s", buf.String())
	}
}

func TestAddConcurrent(t *testing.T) {
	r := New()
	done := make(chan bool)
	go func() {
		for i := 0; i < 100; i++ {
			r.Add(fmt.Sprintf("secret-%03d", i))
		}
		close(done)
	}()
	for i := 0; i < 100; i++ {
		_ = r.String("secret-050")
		_ = r.Handler(slog.NewTextHandler(&bytes.Buffer{}, nil)).Handle(context.Background(), slog.Record{})
	}
	<-done
	if r.String("secret-050") != Mask {
		t.Fatal("added secrets are masked")
	}
}
