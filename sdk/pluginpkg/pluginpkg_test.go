package pluginpkg_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/sdk/pluginpkg"
)

var update = flag.Bool("update", false, "rewrite testdata/*.rpk")

const manifestJSON = `{"name": "tiny", "version": "1.0.0", "abi": 1, "runtime": "wasm", "module": "plugin.wasm", "points": ["score"], "subjects": ["lead"]}`

// module returns a WASM binary whose import section imports the given
// functions (module, name), each of type () -> ().
func module(imports ...[2]string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = append(b, 1, 4, 1, 0x60, 0, 0) // type section: one func type () -> ()
	var sec []byte
	sec = append(sec, byte(len(imports)))
	for _, imp := range imports {
		sec = append(sec, byte(len(imp[0])))
		sec = append(sec, imp[0]...)
		sec = append(sec, byte(len(imp[1])))
		sec = append(sec, imp[1]...)
		sec = append(sec, 0, 0) // func of type 0
	}
	b = append(b, 2, byte(len(sec)))
	return append(b, sec...)
}

func goodFiles() map[string][]byte {
	return map[string][]byte{
		"plugin.json": []byte(manifestJSON),
		"plugin.wasm": module([2]string{"rapport", "log"}, [2]string{"wasi_snapshot_preview1", "fd_write"}),
	}
}

func mustPack(t testing.TB, files map[string][]byte, opts pluginpkg.PackOptions) []byte {
	t.Helper()
	b, err := pluginpkg.Pack(files, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// entry is one raw tar entry for hostile archives.
type entry struct {
	name     string
	typeflag byte
	body     []byte
	link     string
}

// rawTar writes entries as they are, with nothing checked.
func rawTar(t testing.TB, zip bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if zip {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for _, e := range entries {
		flag := e.typeflag
		if flag == 0 {
			flag = tar.TypeReg
		}
		hdr := &tar.Header{Name: e.name, Typeflag: flag, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link, ModTime: time.Unix(0, 0), Format: tar.FormatGNU}
		if flag != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write(e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

// withSums returns the good files plus extra, with their SHA256SUMS, as
// raw entries in a fixed order.
func withSums(extra ...entry) []entry {
	files := goodFiles()
	out := []entry{{name: "plugin.json", body: files["plugin.json"]}, {name: "plugin.wasm", body: files["plugin.wasm"]}}
	out = append(out, extra...)
	for _, e := range extra {
		if e.typeflag == 0 || e.typeflag == tar.TypeReg {
			files[e.name] = e.body
		}
	}
	return append(out, entry{name: pluginpkg.SumsFile, body: pluginpkg.Sums(files)})
}

func testKey(t testing.TB) pluginpkg.PrivateKey {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "test.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := pluginpkg.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixtures builds every testdata package.
func fixtures(t testing.TB) map[string][]byte {
	good := mustPack(t, goodFiles(), pluginpkg.PackOptions{})
	signed, err := pluginpkg.Sign(good, testKey(t), pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pluginpkg.GenerateKey("someone else")
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := pluginpkg.Sign(good, other, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// A signed package whose module and checksums were both changed
	// afterwards: the checksums hold, the signature does not.
	p, err := pluginpkg.Read(signed, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	resigned := map[string][]byte{}
	for k, v := range p.Files {
		resigned[k] = v
	}
	resigned["plugin.wasm"] = module([2]string{"rapport", "log"})
	files := goodFiles()
	tampered := withSums()
	tampered[1].body = module([2]string{"wasi_snapshot_preview1", "random_get"})
	process := goodFiles()
	process["plugin.json"] = []byte(`{"name": "tiny", "version": "1.0.0", "abi": 1, "runtime": "process", "command": ["plugin.wasm"], "points": ["score"]}`)
	badImport := goodFiles()
	badImport["plugin.wasm"] = module([2]string{"env", "socket"})
	wasiOther := goodFiles()
	wasiOther["plugin.wasm"] = module([2]string{"rapport", "exec"})
	zeros := make([]byte, pluginpkg.DefaultMaxUnpacked+1<<20)
	return map[string][]byte{
		"good.rpk":            good,
		"good-plain.rpk":      mustPack(t, goodFiles(), pluginpkg.PackOptions{NoGzip: true}),
		"signed.rpk":          signed,
		"untrusted.rpk":       untrusted,
		"badsig.rpk":          mustPack(t, resigned, pluginpkg.PackOptions{}),
		"tampered.rpk":        rawTar(t, true, tampered...),
		"traversal.rpk":       rawTar(t, true, withSums(entry{name: "../evil", body: []byte("x")})...),
		"absolute.rpk":        rawTar(t, true, withSums(entry{name: "/etc/cron.d/evil", body: []byte("x")})...),
		"dotslash.rpk":        rawTar(t, true, withSums(entry{name: "./plugin.json", body: files["plugin.json"]})...),
		"symlink.rpk":         rawTar(t, true, withSums(entry{name: "questions.json", typeflag: tar.TypeSymlink, link: "/etc/passwd"})...),
		"hardlink.rpk":        rawTar(t, true, withSums(entry{name: "questions.json", typeflag: tar.TypeLink, link: "plugin.json"})...),
		"device.rpk":          rawTar(t, true, withSums(entry{name: "null", typeflag: tar.TypeChar})...),
		"duplicate.rpk":       rawTar(t, true, append(withSums(), entry{name: "plugin.wasm", body: files["plugin.wasm"]})...),
		"unlisted.rpk":        rawTar(t, true, append(withSums(), entry{name: "extra.txt", body: []byte("hi")})...),
		"missing.rpk":         rawTar(t, true, withSums()[0], withSums()[2]),
		"nosums.rpk":          rawTar(t, true, withSums()[:2]...),
		"process.rpk":         mustPack(t, process, pluginpkg.PackOptions{}),
		"badimport.rpk":       mustPack(t, badImport, pluginpkg.PackOptions{}),
		"badhostfunction.rpk": mustPack(t, wasiOther, pluginpkg.PackOptions{}),
		"bomb.rpk":            rawTar(t, true, withSums(entry{name: "questions.json", body: zeros})...),
		"garbage.rpk":         []byte("this is not an archive at all, and it is not gzip either......"),
	}
}

// TestFixtures checks that testdata holds the packages the tests build
// (go test -run TestFixtures -update rewrites them; signatures and the
// other key differ on every build, so those are compared by reading).
func TestFixtures(t *testing.T) {
	for name, b := range fixtures(t) {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: missing; run go test -run TestFixtures -update", path)
		}
	}
}

func TestRead(t *testing.T) {
	tests := []struct {
		file string
		kind error  // nil: accepted
		want string // in the error
	}{
		{"good.rpk", nil, ""},
		{"good-plain.rpk", nil, ""},
		{"signed.rpk", nil, ""},
		{"untrusted.rpk", nil, ""},
		{"badsig.rpk", nil, ""}, // Read does not verify; Verify does
		{"tampered.rpk", pluginpkg.ErrChecksum, `"plugin.wasm" does not match its checksum`},
		{"traversal.rpk", pluginpkg.ErrMalformed, "outside the package"},
		{"absolute.rpk", pluginpkg.ErrMalformed, "an absolute path"},
		{"dotslash.rpk", pluginpkg.ErrMalformed, "not a clean path"},
		{"symlink.rpk", pluginpkg.ErrMalformed, "is a symbolic link"},
		{"hardlink.rpk", pluginpkg.ErrMalformed, "is a hard link"},
		{"device.rpk", pluginpkg.ErrMalformed, "is a device"},
		{"duplicate.rpk", pluginpkg.ErrMalformed, `"plugin.wasm" appears twice`},
		{"unlisted.rpk", pluginpkg.ErrChecksum, `"extra.txt" is not listed`},
		{"missing.rpk", pluginpkg.ErrChecksum, `lists "plugin.wasm", which the package does not hold`},
		{"nosums.rpk", pluginpkg.ErrChecksum, "no SHA256SUMS"},
		{"process.rpk", pluginpkg.ErrProcess, "process plugin"},
		{"badimport.rpk", pluginpkg.ErrImport, `"socket" from "env"`},
		{"badhostfunction.rpk", pluginpkg.ErrImport, `"exec" from "rapport"`},
		{"bomb.rpk", pluginpkg.ErrTooLarge, "contents are over"},
		{"garbage.rpk", pluginpkg.ErrMalformed, "not a tar archive"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := pluginpkg.Read(b, pluginpkg.Limits{})
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if p.Manifest.Ref() != "tiny@1.0.0" || len(p.Module()) == 0 {
					t.Fatalf("read %s with module of %d bytes", p.Manifest.Ref(), len(p.Module()))
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v; want %v with %q", err, tt.kind, tt.want)
			}
		})
	}
}

func TestSizeCap(t *testing.T) {
	good := mustPack(t, goodFiles(), pluginpkg.PackOptions{})
	_, err := pluginpkg.Read(good, pluginpkg.Limits{MaxSize: int64(len(good) - 1)})
	if !errors.Is(err, pluginpkg.ErrTooLarge) || !strings.Contains(err.Error(), "the package is over") {
		t.Fatalf("got %v", err)
	}
	_, err = pluginpkg.Read(good, pluginpkg.Limits{MaxUnpacked: 100})
	if !errors.Is(err, pluginpkg.ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	// ReadFrom stops reading at the cap.
	_, _, err = pluginpkg.ReadFrom(bytes.NewReader(make([]byte, 1<<20)), pluginpkg.Limits{MaxSize: 1000})
	if !errors.Is(err, pluginpkg.ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
}

func TestPackReproducible(t *testing.T) {
	for _, opts := range []pluginpkg.PackOptions{{}, {NoGzip: true}} {
		a := mustPack(t, goodFiles(), opts)
		b := mustPack(t, goodFiles(), opts)
		if !bytes.Equal(a, b) {
			t.Fatalf("%+v: two packs of the same files differ", opts)
		}
		if !bytes.Equal(a, mustPack(t, goodFiles(), opts)) {
			t.Fatal("differs on a third pack")
		}
	}
	if !bytes.Equal(mustPack(t, goodFiles(), pluginpkg.PackOptions{}), readFile(t, "good.rpk")) {
		t.Fatal("good.rpk is not what Pack writes today: the format changed (run -update if on purpose)")
	}
	// Headers carry no times, owners or modes of the packer's files.
	tr := tar.NewReader(bytes.NewReader(mustPack(t, goodFiles(), pluginpkg.PackOptions{NoGzip: true})))
	var names []string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
		if hdr.ModTime.Unix() != 0 || hdr.Uid != 0 || hdr.Gid != 0 || hdr.Uname != "" || hdr.Mode != 0o644 {
			t.Fatalf("%s: header %+v", hdr.Name, hdr)
		}
	}
	if got := strings.Join(names, ","); got != "plugin.json,plugin.wasm,SHA256SUMS" {
		t.Fatalf("entries %s", got)
	}
}

func TestPackDir(t *testing.T) {
	dir := t.TempDir()
	for name, b := range goodFiles() {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not packed"), 0o644)
	b, m, err := pluginpkg.PackDir(dir, pluginpkg.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pluginpkg.FileName(m) != "tiny-1.0.0.rpk" {
		t.Fatalf("file name %s", pluginpkg.FileName(m))
	}
	if !bytes.Equal(b, mustPack(t, goodFiles(), pluginpkg.PackOptions{})) {
		t.Fatal("PackDir differs from Pack of the same files (file modes must not matter)")
	}
	os.WriteFile(filepath.Join(dir, "plugin.json"), []byte(strings.Replace(manifestJSON, `"wasm", "module": "plugin.wasm"`, `"process", "command": ["x"]`, 1)), 0o644)
	if _, _, err := pluginpkg.PackDir(dir, pluginpkg.PackOptions{}); !errors.Is(err, pluginpkg.ErrProcess) {
		t.Fatalf("packed a process plugin: %v", err)
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	key := testKey(t)
	trusted := pluginpkg.Policy{Trusted: []pluginpkg.PublicKey{key.Public()}, RequireSigned: true}
	tests := []struct {
		file   string
		policy pluginpkg.Policy
		kind   error
		want   string
	}{
		{"signed.rpk", trusted, nil, ""},
		{"signed.rpk", pluginpkg.Policy{}, nil, ""},
		{"good.rpk", pluginpkg.Policy{}, nil, ""},
		{"good.rpk", trusted, pluginpkg.ErrNotSigned, "is not signed"},
		{"untrusted.rpk", trusted, pluginpkg.ErrUntrustedKey, "which is not trusted"},
		{"untrusted.rpk", pluginpkg.Policy{}, nil, ""},
		{"badsig.rpk", pluginpkg.Policy{}, pluginpkg.ErrBadSignature, "changed after it was signed"},
		{"badsig.rpk", trusted, pluginpkg.ErrBadSignature, "changed after it was signed"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := pluginpkg.Read(readFile(t, tt.file), pluginpkg.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			signer, err := pluginpkg.Verify(p, tt.policy)
			if tt.kind == nil {
				if err != nil {
					t.Fatal(err)
				}
				if tt.file == "signed.rpk" && len(tt.policy.Trusted) > 0 && (signer == nil || signer.Comment != "rapport test key") {
					t.Fatalf("signer %v", signer)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v; want %v with %q", err, tt.kind, tt.want)
			}
		})
	}
}

func TestSignTwiceAndKeys(t *testing.T) {
	key := testKey(t)
	other, err := pluginpkg.GenerateKey("second")
	if err != nil {
		t.Fatal(err)
	}
	once, err := pluginpkg.Sign(readFile(t, "good.rpk"), key, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := pluginpkg.Sign(once, key, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(once, again) {
		t.Fatal("signing twice with one key is not idempotent (Ed25519 signatures are deterministic)")
	}
	both, err := pluginpkg.Sign(once, other, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pluginpkg.Read(both, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Signatures) != 2 {
		t.Fatalf("%d signatures", len(p.Signatures))
	}
	if _, err := pluginpkg.Verify(p, pluginpkg.Policy{Trusted: []pluginpkg.PublicKey{other.Public()}, RequireSigned: true}); err != nil {
		t.Fatal(err)
	}
	// Keys round-trip through their text forms.
	text, _ := other.MarshalText()
	back, err := pluginpkg.ParsePrivateKey(text)
	if err != nil || !back.Key.Equal(other.Key) || back.Comment != "second" {
		t.Fatalf("private key round trip: %v", err)
	}
	trust := "# team keys\n\n" + key.Public().String() + "\n  " + other.Public().String() + "  \n"
	keys, err := pluginpkg.ParseTrust([]byte(trust))
	if err != nil || len(keys) != 2 || !keys[1].Key.Equal(other.Public().Key) {
		t.Fatalf("trust: %v %v", keys, err)
	}
	for _, bad := range []string{"ssh-ed25519 AAAA x", "rapport-ed25519 notbase64!", "rapport-ed25519 AAAA"} {
		if _, err := pluginpkg.ParseTrust([]byte("# ok\n" + bad)); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := pluginpkg.ParsePrivateKey([]byte(key.Public().String())); err == nil {
		t.Error("a public key parsed as a private key")
	}
}

func TestImports(t *testing.T) {
	imps, err := pluginpkg.Imports(module([2]string{"rapport", "log"}))
	if err != nil || len(imps) != 1 || imps[0] != (pluginpkg.Import{Module: "rapport", Name: "log", Kind: "func"}) {
		t.Fatalf("%v %v", imps, err)
	}
	memory := []byte("\x00asm\x01\x00\x00\x00\x02\x0d\x01\x03env\x06memory\x02\x00\x01")
	if _, err := pluginpkg.Read(mustPack(t, map[string][]byte{"plugin.json": []byte(manifestJSON), "plugin.wasm": memory}, pluginpkg.PackOptions{}), pluginpkg.Limits{}); !errors.Is(err, pluginpkg.ErrImport) || !strings.Contains(err.Error(), "memory") {
		t.Fatalf("a memory import: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x02\x00\x00\x00"), []byte("\x00asm\x01\x00\x00\x00\x02\x7f"), []byte("\x00asm\x01\x00\x00\x00\x02\x03\x05\x01a")} {
		if _, err := pluginpkg.Imports(bad); !errors.Is(err, pluginpkg.ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".rpk") && e.Name() != "bomb.rpk" {
			b, _ := os.ReadFile(filepath.Join("testdata", e.Name()))
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := pluginpkg.Read(b, pluginpkg.Limits{MaxSize: 1 << 20, MaxUnpacked: 4 << 20})
		if err != nil {
			var pe *pluginpkg.Error
			if !errors.As(err, &pe) {
				t.Fatalf("not a package error: %v", err)
			}
			return
		}
		// What Read accepts is whole: a manifest, its module and sums that
		// hold, and it packs again to a package Read accepts.
		if p.Manifest == nil || p.Module() == nil || p.Sums() == nil {
			t.Fatal("accepted an incomplete package")
		}
		again, err := pluginpkg.Pack(p.Files, pluginpkg.PackOptions{NoGzip: !p.Gzip})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pluginpkg.Read(again, pluginpkg.Limits{MaxUnpacked: 8 << 20}); err != nil {
			t.Fatalf("repacked package refused: %v", err)
		}
	})
}
