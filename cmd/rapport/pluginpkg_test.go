package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyModule is a WASM binary that imports rapport.log: enough for the
// package commands, which check imports but do not run the module.
var tinyModule = []byte("\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00\x02\x0f\x01\x07rapport\x03log\x00\x00")

func TestPackSignVerify(t *testing.T) {
	dir := t.TempDir()
	plugin := filepath.Join(dir, "tiny")
	os.MkdirAll(plugin, 0o755)
	os.WriteFile(filepath.Join(plugin, "plugin.json"), []byte(`{"name": "tiny", "version": "0.2.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm", "points": ["score"]}`), 0o644)
	os.WriteFile(filepath.Join(plugin, "plugin.wasm"), tinyModule, 0o644)

	if _, err := run(t, "plugin", "pack", plugin, "--dir", dir); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "tiny-0.2.0.rpk")
	first, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	// Packing again, after touching the files, gives the same bytes.
	os.Chmod(filepath.Join(plugin, "plugin.wasm"), 0o600)
	if _, err := run(t, "plugin", "pack", plugin, "--dir", dir); err != nil {
		t.Fatal(err)
	}
	if second, _ := os.ReadFile(pkg); !bytes.Equal(first, second) {
		t.Fatal("packing twice gave different packages")
	}

	key := filepath.Join(dir, "team")
	pub, err := run(t, "plugin", "keygen", "--out", key, "--comment", "team@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(pub, "rapport-ed25519 ") || !strings.HasSuffix(pub, " team@example.com\n") {
		t.Fatalf("public key %q", pub)
	}
	if st, err := os.Stat(key + ".key"); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	if _, err := run(t, "plugin", "keygen", "--out", key); err == nil {
		t.Fatal("keygen overwrote an existing key")
	}
	trust := filepath.Join(dir, "keys.txt")
	os.WriteFile(trust, []byte("# the team\n"+pub), 0o644)

	// Unsigned: fine without trust, refused with it.
	if _, err := run(t, "plugin", "verify", pkg); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "plugin", "verify", pkg, "--trust", trust); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned under trust: %v", err)
	}
	if _, err := run(t, "plugin", "sign", pkg, "--key", key+".key"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "plugin", "verify", pkg, "--trust", trust, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "team@example.com") || !strings.Contains(out, "tiny@0.2.0") {
		t.Fatalf("verify: %s", out)
	}
	// Another key is not trusted.
	other := filepath.Join(dir, "other")
	otherPub, _ := run(t, "plugin", "keygen", "--out", other)
	os.WriteFile(trust, []byte(otherPub), 0o644)
	if _, err := run(t, "plugin", "verify", pkg, "--trust", trust); err == nil || !strings.Contains(err.Error(), "signed by an untrusted key") {
		t.Fatalf("untrusted: %v", err)
	}
	// A changed byte in the module is named.
	if _, err := run(t, "plugin", "pack", plugin, "--dir", dir, "--no-gzip"); err != nil {
		t.Fatal(err)
	}
	plain, _ := os.ReadFile(pkg)
	i := bytes.Index(plain, []byte("rapport\x03log"))
	plain[i] = 'R'
	os.WriteFile(pkg, plain, 0o644)
	if _, err := run(t, "plugin", "verify", pkg); err == nil || !strings.Contains(err.Error(), `"plugin.wasm" does not match its checksum`) {
		t.Fatalf("tampered: %v", err)
	}
}
