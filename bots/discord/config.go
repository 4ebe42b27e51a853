package discord

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Config is how the bot reaches Discord, read from the environment.
type Config struct {
	// Token is the bot token (DISCORD_BOT_TOKEN), without "Bot ". It selects
	// gateway mode, and registers the commands in either mode.
	Token string
	// AppID is the application id (DISCORD_APP_ID); when empty it is asked
	// of Discord with the token.
	AppID string
	// GuildID registers the commands in one server only (DISCORD_GUILD_ID),
	// where changes show at once; empty registers them globally.
	GuildID string
	// PublicKey selects HTTP interactions mode (DISCORD_PUBLIC_KEY, hex).
	PublicKey ed25519.PublicKey
	// Public makes replies visible to everyone (DISCORD_PUBLIC_REPLIES=true).
	Public bool
	// ShardID and ShardCount split a bot in many servers over processes
	// (DISCORD_SHARD_ID, DISCORD_SHARD_COUNT).
	ShardID, ShardCount int
}

// Configured says whether Discord is set up at all.
func (c Config) Configured() bool { return c.Token != "" || c.PublicKey != nil }

// HTTPMode says whether interactions arrive at the HTTP endpoint rather than
// over the gateway.
func (c Config) HTTPMode() bool { return c.PublicKey != nil }

// ConfigFromEnv reads the DISCORD_* variables through getenv (os.Getenv).
// Its errors never contain the token.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		Token:      strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(getenv("DISCORD_BOT_TOKEN")), "Bot ")),
		AppID:      strings.TrimSpace(getenv("DISCORD_APP_ID")),
		GuildID:    strings.TrimSpace(getenv("DISCORD_GUILD_ID")),
		ShardCount: 1,
	}
	var errs []error
	if k := strings.TrimSpace(getenv("DISCORD_PUBLIC_KEY")); k != "" {
		b, err := hex.DecodeString(k)
		if err != nil || len(b) != ed25519.PublicKeySize {
			errs = append(errs, errors.New("DISCORD_PUBLIC_KEY must be the application's public key as shown in the Developer Portal: 64 hex characters"))
		} else {
			c.PublicKey = ed25519.PublicKey(b)
		}
	}
	if v := strings.TrimSpace(getenv("DISCORD_PUBLIC_REPLIES")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("DISCORD_PUBLIC_REPLIES must be true or false, not %q", v))
		}
		c.Public = b
	}
	num := func(name string, def int) int {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s must be a whole number, not %q", name, v))
			return def
		}
		return n
	}
	c.ShardID = num("DISCORD_SHARD_ID", 0)
	c.ShardCount = num("DISCORD_SHARD_COUNT", 1)
	if c.ShardCount < 1 {
		errs = append(errs, errors.New("DISCORD_SHARD_COUNT must be at least 1"))
	} else if c.ShardID >= c.ShardCount {
		errs = append(errs, fmt.Errorf("DISCORD_SHARD_ID must be below DISCORD_SHARD_COUNT (%d), not %d", c.ShardCount, c.ShardID))
	}
	for _, id := range []struct{ name, v string }{{"DISCORD_APP_ID", c.AppID}, {"DISCORD_GUILD_ID", c.GuildID}} {
		if _, err := strconv.ParseUint(id.v, 10, 64); id.v != "" && err != nil {
			errs = append(errs, fmt.Errorf("%s must be a numeric Discord id, not %q", id.name, id.v))
		}
	}
	return c, errors.Join(errs...)
}
