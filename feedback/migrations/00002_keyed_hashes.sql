-- Chat ids are now hashed under a key kept outside the database
-- (KRATOMBOT_STORE_KEY or a key file), not under a salt stored beside the
-- hashes. The old salt goes; the regions hashed under it cannot be found
-- again, so they go too (chats choose their region once more). Schema 2
-- makes a kratombot from before migrations refuse this store.

-- +goose Up
DELETE FROM kratombot_meta WHERE name = 'salt';
DELETE FROM kratombot_regions;
UPDATE kratombot_meta SET value = '2' WHERE name = 'schema';

-- +goose Down
UPDATE kratombot_meta SET value = '1' WHERE name = 'schema';
DELETE FROM kratombot_meta WHERE name = 'key_check';
