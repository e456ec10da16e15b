package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/extensiontest"
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

// TestPluginInstall installs a signed package into one workspace from the
// command line, under --require-signed: an unsigned one is refused,
// nothing is stored, and the same package twice is one install.
func TestPluginInstall(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "cli.db")
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "plugin", "pack", filepath.Join(extensiontest.Plugins(t), "leadscore"), "--dir", dir); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(dir, "leadscore-1.0.0.rpk")
	pub, err := run(t, "plugin", "keygen", "--out", filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(dir, "keys.txt")
	os.WriteFile(trust, []byte(pub), 0o644)
	args := []string{"--db", db, "plugin", "install", pkg, "--workspace", "acme", "--bundled=false", "--plugin-trust", trust, "--require-signed"}
	if _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Fatalf("unsigned: %v", err)
	}
	if _, err := run(t, "plugin", "sign", pkg, "--key", filepath.Join(dir, "k.key")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		out, err := run(t, args...)
		if err != nil || !strings.HasPrefix(out, "installed leadscore@1.0.0 in acme") {
			t.Fatalf("install %d: %q %v", i, out, err)
		}
	}
	if _, err := run(t, append(args[:len(args)-1], "--workspace-plugin-max-memory", "8")...); err == nil || !strings.Contains(err.Error(), "workspace-plugin-max-memory") {
		t.Fatalf("over the memory cap: %v", err)
	}
	// Uninstall: once, then it is gone; a malformed name is refused.
	un := []string{"--db", db, "plugin", "uninstall", "leadscore@1.0.0", "--workspace", "acme"}
	if out, err := run(t, un...); err != nil || !strings.HasPrefix(out, "uninstalled leadscore@1.0.0 from acme") {
		t.Fatalf("uninstall: %q %v", out, err)
	}
	if _, err := run(t, un...); err == nil || !strings.Contains(err.Error(), "no plugin leadscore@1.0.0 is installed") {
		t.Fatalf("second uninstall: %v", err)
	}
	if _, err := run(t, "--db", db, "plugin", "uninstall", "leadscore", "--workspace", "acme"); err == nil || !strings.Contains(err.Error(), "NAME@VERSION") {
		t.Fatalf("uninstall without a version: %v", err)
	}
	// Installed again, it is there again (the row was removed, not hidden).
	if out, err := run(t, args...); err != nil || !strings.HasPrefix(out, "installed leadscore@1.0.0 in acme") {
		t.Fatalf("install after uninstall: %q %v", out, err)
	}
}
