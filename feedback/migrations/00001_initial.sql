-- The schema kratombot made before migrations were tracked. IF NOT EXISTS,
-- so a store made by those versions is taken over as it is.

-- +goose Up
CREATE TABLE IF NOT EXISTS kratombot_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kratombot_topics (
	day TEXT NOT NULL, platform TEXT NOT NULL, topic TEXT NOT NULL,
	shown BIGINT NOT NULL DEFAULT 0, helpful BIGINT NOT NULL DEFAULT 0, not_helpful BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, platform, topic));
CREATE TABLE IF NOT EXISTS kratombot_unanswered (
	day TEXT NOT NULL, question TEXT NOT NULL, asked BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, question));
CREATE TABLE IF NOT EXISTS kratombot_regions (chat TEXT PRIMARY KEY, region TEXT NOT NULL, updated TEXT NOT NULL);
INSERT INTO kratombot_meta (name, value) VALUES ('schema', '1') ON CONFLICT (name) DO NOTHING;

-- +goose Down
DROP TABLE kratombot_regions;
DROP TABLE kratombot_unanswered;
DROP TABLE kratombot_topics;
DROP TABLE kratombot_meta;
