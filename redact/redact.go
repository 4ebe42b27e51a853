// Package redact removes secrets (bot tokens, keys, passwords in DSNs) from
// text, errors and log records before they are printed anywhere.
//
// It must never log, store or return a secret it was given, and must never
// drop a log record: a record is always written, with secrets replaced.
package redact

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// Mask is what a secret is replaced with.
const Mask = "[REDACTED]"

// Redactor replaces known secrets. The zero value knows none; it is safe for
// concurrent use.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// New returns a Redactor for these secrets; empty ones are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add learns more secrets. Very short values are skipped, because masking
// every "1" in a log would hide everything and protect nothing.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		if len(s) >= 6 {
			r.secrets = append(r.secrets, s)
		}
	}
	// longest first so a secret containing another is masked whole
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// Error returns an error whose message has secrets masked. errors.Is and
// errors.As still see the original chain, but its text is never shown by it.
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := r.String(msg)
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}

type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// Is keeps errors.Is working through the mask.
func (e *redacted) Is(target error) bool { return errors.Is(e.err, target) }

// Handler wraps a slog.Handler so that messages and attribute values are
// masked before they are written.
func (r *Redactor) Handler(h slog.Handler) slog.Handler { return &handler{r: r, h: h} }

type handler struct {
	r *Redactor
	h slog.Handler
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.h.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.h.Handle(ctx, out)
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		var as []any
		for _, g := range v.Group() {
			as = append(as, h.attr(g))
		}
		return slog.Group(a.Key, as...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.r.String(err.Error()))
		}
		return slog.String(a.Key, h.r.String(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &handler{r: h.r, h: h.h.WithAttrs(clean)}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{r: h.r, h: h.h.WithGroup(name)}
}

// Writer masks secrets in everything written through it, for libraries that
// log with the standard log package.
type Writer struct {
	R   *Redactor
	Out interface{ Write([]byte) (int, error) }
}

func (w Writer) Write(p []byte) (int, error) {
	if _, err := w.Out.Write([]byte(w.R.String(string(p)))); err != nil {
		return 0, err
	}
	return len(p), nil
}
