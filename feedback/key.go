package feedback

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// MinKey is the shortest store key accepted, in bytes.
const MinKey = 32

// KeyFor turns a KRATOMBOT_STORE_KEY value into a key; it checks only its
// length, so any secret of 32 characters or more works (openssl rand -hex 32).
func KeyFor(secret string) ([]byte, error) {
	secret = strings.TrimSpace(secret)
	if len(secret) < MinKey {
		return nil, fmt.Errorf("KRATOMBOT_STORE_KEY is too short (%d characters); use at least %d random characters, e.g. the output of openssl rand -hex 32", len(secret), MinKey)
	}
	return []byte(secret), nil
}

// DefaultKeyFile is where the key of an SQLite store lives when neither
// KRATOMBOT_STORE_KEY nor KRATOMBOT_STORE_KEY_FILE is set: beside the
// database, as PATH.key. PostgreSQL has none: its replicas must share a key
// given to each of them, so "" is returned.
func DefaultKeyFile(spec string) string {
	backend, dsn, err := ParseSpec(spec)
	if err != nil || backend != SQLite {
		return ""
	}
	dsn = strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(dsn, '?'); i >= 0 {
		dsn = dsn[:i]
	}
	if dsn == "" || dsn == ":memory:" {
		return ""
	}
	return dsn + ".key"
}

// loadKeyFile reads the key file, or creates it (mode 0600, a random key)
// when it does not exist yet. A file that others can read is refused.
func loadKeyFile(path string) ([]byte, error) {
	for range 2 {
		data, err := os.ReadFile(path)
		if err == nil {
			info, serr := os.Stat(path)
			if serr == nil && info.Mode().Perm()&0o077 != 0 {
				return nil, fmt.Errorf("the store key file %s can be read by other users; run chmod 600 on it", path)
			}
			key := strings.TrimSpace(string(data))
			if len(key) < MinKey {
				return nil, fmt.Errorf("the store key file %s holds fewer than %d characters; delete it to make a new one (chats then choose their region again)", path, MinKey)
			}
			return []byte(key), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cannot read the store key file: %w", err)
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("making a store key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue // another process made it first: read theirs
		}
		if err != nil {
			return nil, fmt.Errorf("cannot create the store key file (does its folder exist and can the bot write there?): %w", err)
		}
		_, werr := f.WriteString(hex.EncodeToString(b) + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(path)
			return nil, fmt.Errorf("writing the store key file: %w", werr)
		}
	}
	return nil, fmt.Errorf("cannot read the store key file %s", path)
}
