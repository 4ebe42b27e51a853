package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/kratombot/kratombot/metrics"
)

// EndpointPath is where Discord's HTTP interactions arrive; set the
// application's Interactions Endpoint URL to https://<host>/discord/interactions.
const EndpointPath = "/discord/interactions"

const (
	// MaxBody is the largest request accepted: interactions are a few KiB.
	MaxBody = 64 << 10
	// MaxSkew is how far a request's signed timestamp may be from now; older
	// requests may be replays.
	MaxSkew = 5 * time.Minute
)

// Endpoint answers Discord's HTTP interactions: it checks the Ed25519
// signature and the timestamp's age (401), the body's size (413), answers
// PING with PONG and everything else inline with the handler's response.
func (b *Bot) Endpoint() http.Handler { return &endpoint{b: b, now: time.Now} }

type endpoint struct {
	b   *Bot
	now func() time.Time
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	log := e.b.log()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if r.ContentLength > MaxBody {
		http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the request", http.StatusBadRequest)
		return
	}
	if !verify(e.b.Config.PublicKey, r.Header, body, e.now()) {
		log.Debug("discord: rejected an interaction request with a bad, missing or stale signature")
		http.Error(w, "invalid request signature", http.StatusUnauthorized)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		http.Error(w, "not an interaction", http.StatusBadRequest)
		return
	}
	if i.Type != discordgo.InteractionPing {
		// a byte-identical replay carries a valid signature while its
		// timestamp is fresh: the id tells it was answered already
		if !e.b.seen.first(i.ID, e.now()) {
			log.Debug("discord: an interaction already answered came again; not answering twice")
			http.Error(w, "this interaction was already answered", http.StatusConflict)
			return
		}
		metrics.Updates.WithLabelValues(Platform).Inc()
	}
	// Not the request's context alone: a deferred answer goes on after the
	// HTTP response is written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), sendTimeout)
	defer cancel()
	wrote := false
	resp, sent, deferred := e.b.respond(ctx, &i, func(d *discordgo.InteractionResponse) error {
		wrote = true
		return e.write(w, d)
	})
	if deferred {
		if resp == nil {
			return
		}
		if err := e.b.followUp(ctx, e.b.Client, &i, resp); err != nil {
			e.b.sendFailed(err)
			return
		}
		metrics.SendLatency.WithLabelValues(Platform).Observe(time.Since(start).Seconds())
		sent(ctx)
		return
	}
	if wrote {
		return // the deferral failed to go out; respond logged it
	}
	if resp == nil {
		http.Error(w, "no answer", http.StatusServiceUnavailable)
		return
	}
	if err := e.write(w, resp); err != nil {
		e.b.sendFailed(err)
		return
	}
	if i.Type != discordgo.InteractionPing {
		metrics.SendLatency.WithLabelValues(Platform).Observe(time.Since(start).Seconds())
	}
	sent(ctx)
}

// write sends resp as the HTTP response and flushes it, so that it goes
// out before the event is recorded or a follow-up is prepared.
func (e *endpoint) write(w http.ResponseWriter, resp *discordgo.InteractionResponse) error {
	data, err := encode(resp)
	if err != nil {
		http.Error(w, "could not encode the reply", http.StatusInternalServerError)
		return fmt.Errorf("could not encode a reply: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("could not write a reply: %w", err)
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

// verify checks Discord's signature over timestamp+body and that the
// timestamp is within MaxSkew of now (discordgo.VerifyInteraction does not).
func verify(key ed25519.PublicKey, h http.Header, body []byte, now time.Time) bool {
	if len(key) != ed25519.PublicKeySize {
		return false
	}
	sig, err := hex.DecodeString(h.Get("X-Signature-Ed25519"))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return false
	}
	ts := h.Get("X-Signature-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > MaxSkew || d < -MaxSkew {
		return false
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	return ed25519.Verify(key, msg, sig)
}
