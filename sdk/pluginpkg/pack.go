package pluginpkg

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// PackOptions adjust Pack.
type PackOptions struct {
	// NoGzip writes a plain tar archive instead of a gzip-compressed one.
	NoGzip bool
}

// PackDir packs the plugin in dir (plugin.json beside its module) and
// returns the package's bytes and its manifest. The module must have been
// built; process plugins are refused (ErrProcess).
func PackDir(dir string, opts PackOptions) ([]byte, *manifest.Manifest, error) {
	m, err := manifest.Load(filepath.Join(dir, manifest.FileName))
	if err != nil {
		return nil, nil, err
	}
	if m.Runtime != "wasm" {
		return nil, nil, fail(ErrProcess, "%s is a %s plugin: only WASM plugins are packaged (the operator installs process plugins in the server's plugin directory)", m.Ref(), m.Runtime)
	}
	files := map[string][]byte{}
	names := []string{manifest.FileName, m.Module}
	if m.Questions != "" {
		names = append(names, m.Questions)
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, nil, fmt.Errorf("pack %s: %w", m.Ref(), err)
		}
		files[name] = b
	}
	if err := checkModule(files[m.Module]); err != nil {
		return nil, nil, err
	}
	b, err := Pack(files, opts)
	return b, m, err
}

// Pack writes a package of files (by path; SHA256SUMS and SIGNATURE, when
// given, are replaced and kept respectively): SHA256SUMS is computed, and
// the archive is the same bytes for the same files.
func Pack(files map[string][]byte, opts PackOptions) ([]byte, error) {
	content := map[string][]byte{}
	for name, b := range files {
		if name != SumsFile {
			content[name] = b
		}
	}
	sig := content[SignatureFile]
	delete(content, SignatureFile)
	content[SumsFile] = Sums(content)
	if sig != nil {
		content[SignatureFile] = sig
	}
	return write(content, !opts.NoGzip)
}

// Sums is the SHA256SUMS content of files: "<hex sha256>  <path>\n" per
// file, sorted by path, in the format of sha256sum(1).
func Sums(files map[string][]byte) []byte {
	names := make([]string, 0, len(files))
	for name := range files {
		if name != SumsFile && name != SignatureFile {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, name := range names {
		sum := sha256.Sum256(files[name])
		fmt.Fprintf(&buf, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	return buf.Bytes()
}

// entryOrder is the order of entries in an archive: the manifest first,
// the other files by path, then SHA256SUMS and SIGNATURE.
func entryOrder(files map[string][]byte) []string {
	rank := func(name string) int {
		switch name {
		case "plugin.json":
			return 0
		case SumsFile:
			return 2
		case SignatureFile:
			return 3
		}
		return 1
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(names[i]), rank(names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

// write archives files in entryOrder with every varying header field
// fixed, gzip-compressed when zip is set (no name, zero time).
func write(files map[string][]byte, zip bool) ([]byte, error) {
	var out bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if zip {
		zw, _ = gzip.NewWriterLevel(&out, gzip.BestCompression)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&out)
	}
	for _, name := range entryOrder(files) {
		b := files[name]
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     name,
			Size:     int64(len(b)),
			Mode:     0o644,
			ModTime:  time.Unix(0, 0),
			Format:   tar.FormatUSTAR,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("pack %s: %w", name, err)
		}
		if _, err := tw.Write(b); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}
