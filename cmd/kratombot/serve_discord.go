package main

import (
	"os"

	"github.com/kratombot/kratombot/bots/discord"
)

func init() { platforms = append(platforms, startDiscord) }

// startDiscord runs the Discord adapter when DISCORD_BOT_TOKEN (gateway mode)
// or DISCORD_PUBLIC_KEY (HTTP interactions mode) is set.
func startDiscord(d *deps) (string, runner, error) {
	cfg, err := discord.ConfigFromEnv(os.Getenv)
	// the token is masked before anything, even a config error, is printed
	d.redactor.Add(cfg.Token)
	if err != nil {
		return "", nil, err
	}
	if !cfg.Configured() {
		return "", nil, nil
	}
	h := discord.NewHandler(d.engine, discord.Options{
		Public: cfg.Public, Feedback: d.feedback, Region: d.region,
		Recorder: d.recorder, Regions: d.regions, Log: d.log, LogText: d.logText,
	})
	b := &discord.Bot{
		Config: cfg, Handler: h, Commands: discord.Commands(d.engine),
		Log: d.log, Redactor: d.redactor,
		// READY, or the interactions endpoint served: /readyz counts it
		Connected: func() { d.connected("discord") },
	}
	if cfg.HTTPMode() {
		d.mux.Handle("POST "+discord.EndpointPath, b.Endpoint())
	}
	return "discord", b.Run, nil
}
