package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/kratombot/kratombot/bots/telegram"
)

func init() { platforms = append(platforms, startTelegram) }

// startTelegram runs the Telegram adapter when TELEGRAM_BOT_TOKEN is set:
// long polling, or a webhook on KRATOMBOT_HTTP_ADDR when
// TELEGRAM_WEBHOOK_URL is set. TELEGRAM_MODE=polling asks for long polling
// explicitly, which removes a webhook registered for the bot.
func startTelegram(d *deps) (string, runner, error) {
	token := strings.TrimSpace(os.Getenv("TELEGRAM_BOT_TOKEN"))
	if token == "" {
		return "telegram", nil, nil
	}
	polling := false
	switch mode := strings.ToLower(strings.TrimSpace(os.Getenv("TELEGRAM_MODE"))); mode {
	case "":
	case "polling":
		polling = true
	case "webhook":
		if os.Getenv("TELEGRAM_WEBHOOK_URL") == "" {
			return "telegram", nil, fmt.Errorf("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL, the public URL Telegram posts to")
		}
	default:
		return "telegram", nil, fmt.Errorf("TELEGRAM_MODE is %q: use polling or webhook, or leave it empty", mode)
	}
	d.redactor.Add(token)
	secret := os.Getenv("TELEGRAM_WEBHOOK_SECRET")
	d.redactor.Add(secret)
	b, err := telegram.New(telegram.Config{
		Token:         token,
		Endpoint:      os.Getenv("TELEGRAM_API_ENDPOINT"),
		WebhookURL:    os.Getenv("TELEGRAM_WEBHOOK_URL"),
		WebhookSecret: secret,
		Polling:       polling,
		Region:        d.region,
		Feedback:      d.feedback,
		LogText:       d.logText,
	}, telegram.Deps{
		Engine: d.engine, Log: d.log, Redactor: d.redactor,
		Recorder: d.recorder, Regions: d.regions, Mux: d.mux,
		Connected: func() { d.connected("telegram") },
	})
	if err != nil {
		return "telegram", nil, fmt.Errorf("cannot start the Telegram bot: %w", d.redactor.Error(err))
	}
	return "telegram", b.Run, nil
}
