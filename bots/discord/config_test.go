package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	pub := hex.EncodeToString(testKey.Public().(ed25519.PublicKey))
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{"nothing", nil, Config{ShardCount: 1}, ""},
		{"gateway", map[string]string{"DISCORD_BOT_TOKEN": " " + testToken + "\n", "DISCORD_APP_ID": "123", "DISCORD_GUILD_ID": "456"},
			Config{Token: testToken, AppID: "123", GuildID: "456", ShardCount: 1}, ""},
		{"token with Bot prefix", map[string]string{"DISCORD_BOT_TOKEN": "Bot " + testToken}, Config{Token: testToken, ShardCount: 1}, ""},
		{"http", map[string]string{"DISCORD_PUBLIC_KEY": strings.ToUpper(pub), "DISCORD_PUBLIC_REPLIES": "true"},
			Config{PublicKey: testKey.Public().(ed25519.PublicKey), Public: true, ShardCount: 1}, ""},
		{"shards", map[string]string{"DISCORD_BOT_TOKEN": testToken, "DISCORD_SHARD_ID": "3", "DISCORD_SHARD_COUNT": "4"},
			Config{Token: testToken, ShardID: 3, ShardCount: 4}, ""},
		{"bad key", map[string]string{"DISCORD_PUBLIC_KEY": "abc"}, Config{}, "DISCORD_PUBLIC_KEY"},
		{"bad replies", map[string]string{"DISCORD_PUBLIC_REPLIES": "sometimes"}, Config{}, "DISCORD_PUBLIC_REPLIES"},
		{"shard out of range", map[string]string{"DISCORD_SHARD_ID": "2", "DISCORD_SHARD_COUNT": "2"}, Config{}, "DISCORD_SHARD_ID"},
		{"shard count zero", map[string]string{"DISCORD_SHARD_COUNT": "0"}, Config{}, "DISCORD_SHARD_COUNT"},
		{"shard not a number", map[string]string{"DISCORD_SHARD_ID": "one"}, Config{}, "DISCORD_SHARD_ID"},
		{"app id not an id", map[string]string{"DISCORD_APP_ID": "my-bot"}, Config{}, "DISCORD_APP_ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %s", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testToken) {
					t.Errorf("the error holds the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Token != tt.want.Token || got.AppID != tt.want.AppID || got.GuildID != tt.want.GuildID || !got.PublicKey.Equal(tt.want.PublicKey) ||
				got.Public != tt.want.Public || got.ShardID != tt.want.ShardID || got.ShardCount != tt.want.ShardCount {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if got.Configured() != (tt.want.Token != "" || tt.want.PublicKey != nil) || got.HTTPMode() != (tt.want.PublicKey != nil) {
				t.Error("Configured/HTTPMode disagree")
			}
		})
	}
}

// Answers must go out well within Discord's three seconds; this shows how
// far within (go test -bench Respond).
func BenchmarkRespond(b *testing.B) {
	h := NewHandler(shippedEngine(b), Options{Feedback: true})
	for _, bm := range []struct {
		name    string
		payload []byte
	}{
		{"ask", commandJSON("1", "ask", str("question", "i cant sleep and my legs wont stop moving"))},
		{"autocomplete", autocompleteJSON("1", "symptoms", "symptom", "sle")},
		{"overview", commandJSON("1", "faq")},
	} {
		i := decodeInteraction(b, bm.payload)
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				resp, _ := h.Respond(context.Background(), i)
				if _, err := encode(resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
