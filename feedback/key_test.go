package feedback

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "f.db")
	keyFile := DefaultKeyFile("sqlite:" + db)
	if keyFile != db+".key" {
		t.Fatalf("DefaultKeyFile = %q", keyFile)
	}
	if DefaultKeyFile("postgres://db/kb") != "" {
		t.Error("PostgreSQL replicas must share a key given to them, not a file each")
	}
	ctx := context.Background()
	s := openT(t, "sqlite:"+db, Options{Key: []byte{}, KeyFile: keyFile})
	s.SetChatRegion(ctx, "telegram:42", "UK")
	flush(t, s)
	s.Close(ctx)
	info, err := os.Stat(keyFile)
	if err != nil {
		t.Fatalf("no key file made on first start: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	key, _ := os.ReadFile(keyFile)
	if raw, _ := os.ReadFile(db); strings.Contains(string(raw), strings.TrimSpace(string(key))) {
		t.Error("the key is inside the database")
	}
	// a restart reads the same key: the region is found again
	s = openT(t, "sqlite:"+db, Options{Key: []byte{}, KeyFile: keyFile})
	if got, ok, _ := s.ChatRegion(ctx, "telegram:42"); got != "UK" || !ok {
		t.Errorf("after a restart with the key file: %q %v", got, ok)
	}
	s.Close(ctx)

	os.Chmod(keyFile, 0o644)
	if _, err := Open(ctx, "sqlite:"+db, Options{KeyFile: keyFile}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("a key file others can read should be refused: %v", err)
	}
	if _, err := KeyFor("short"); err == nil {
		t.Error("a short KRATOMBOT_STORE_KEY should be refused")
	}
}
