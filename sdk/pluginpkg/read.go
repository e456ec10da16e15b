package pluginpkg

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// ReadFrom reads a package from r, reading at most lim.MaxSize+1 bytes:
// a longer stream is ErrTooLarge without being read to its end.
func ReadFrom(r io.Reader, lim Limits) (*Package, []byte, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxSize+1))
	if err != nil {
		return nil, nil, err
	}
	p, err := Read(data, lim)
	return p, data, err
}

// Read checks a package's bytes and returns its contents; see the
// package's documentation for what is refused. The error is an *Error
// whose Kind says which check failed.
func Read(data []byte, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxSize {
		return nil, fail(ErrTooLarge, "the package is over %d bytes", lim.MaxSize)
	}
	p := &Package{Files: map[string][]byte{}}
	var src io.Reader = bytes.NewReader(data)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fail(ErrMalformed, "not a gzip stream: %v", err)
		}
		zr.Multistream(false)
		src, p.Gzip = zr, true
	}
	// The budget counts every byte the archive decompresses to, headers
	// and padding included, so a bomb stops at the cap whatever its
	// headers say.
	budget := &capped{r: src, left: lim.MaxUnpacked + 1}
	tr := tar.NewReader(bufio.NewReader(budget))
	var total int64
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if budget.left <= 0 {
			return nil, fail(ErrTooLarge, "the package's contents are over %d bytes", lim.MaxUnpacked)
		}
		if err != nil {
			return nil, fail(ErrMalformed, "not a tar archive: %v", err)
		}
		if entries >= maxEntries {
			return nil, fail(ErrMalformed, "more than %d entries", maxEntries)
		}
		if err := checkPath(hdr.Name); err != nil {
			return nil, err
		}
		if kind := entryKind(hdr.Typeflag); kind != "" {
			return nil, fail(ErrMalformed, "entry %q is a %s: a package holds regular files only", hdr.Name, kind)
		}
		if _, dup := p.Files[hdr.Name]; dup {
			return nil, fail(ErrMalformed, "entry %q appears twice", hdr.Name)
		}
		if hdr.Size < 0 || hdr.Size > lim.MaxUnpacked-total {
			return nil, fail(ErrTooLarge, "the package's contents are over %d bytes", lim.MaxUnpacked)
		}
		b := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, b); err != nil {
			if budget.left <= 0 {
				return nil, fail(ErrTooLarge, "the package's contents are over %d bytes", lim.MaxUnpacked)
			}
			return nil, fail(ErrMalformed, "entry %q: %v", hdr.Name, err)
		}
		total += hdr.Size
		p.Files[hdr.Name] = b
	}
	if len(p.Files) == 0 {
		return nil, fail(ErrMalformed, "an empty archive")
	}
	if err := checkSums(p.Files); err != nil {
		return nil, err
	}
	for _, small := range []string{manifest.FileName, SumsFile, SignatureFile} {
		if len(p.Files[small]) > maxSmallFile {
			return nil, fail(ErrTooLarge, "%s is over %d bytes", small, maxSmallFile)
		}
	}
	raw, ok := p.Files[manifest.FileName]
	if !ok {
		return nil, fail(ErrMalformed, "no %s", manifest.FileName)
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		return nil, fail(ErrMalformed, "%v", err)
	}
	if m.Runtime != "wasm" {
		return nil, fail(ErrProcess, "%s is a %s plugin: a package carries a WASM plugin only", m.Ref(), m.Runtime)
	}
	p.Manifest = m
	want := map[string]bool{manifest.FileName: true, SumsFile: true, SignatureFile: true, m.Module: true}
	if m.Questions != "" {
		want[m.Questions] = true
		if _, ok := p.Files[m.Questions]; !ok {
			return nil, fail(ErrMalformed, "no question set %q, which plugin.json names", m.Questions)
		}
		if len(p.Files[m.Questions]) > maxSmallFile {
			return nil, fail(ErrTooLarge, "%s is over %d bytes", m.Questions, maxSmallFile)
		}
	}
	if _, ok := p.Files[m.Module]; !ok {
		return nil, fail(ErrMalformed, "no module %q, which plugin.json names", m.Module)
	}
	for name := range p.Files {
		if !want[name] {
			return nil, fail(ErrMalformed, "file %q is not part of the plugin (plugin.json names neither it nor a question set of that name)", name)
		}
	}
	if err := checkModule(p.Module()); err != nil {
		return nil, err
	}
	if sig, ok := p.Files[SignatureFile]; ok {
		if p.Signatures, err = parseSignatures(sig); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// capped reads from r until left is spent, then reports EOF; left going
// to zero tells that the cap was reached.
type capped struct {
	r    io.Reader
	left int64
}

func (c *capped) Read(b []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.r.Read(b)
	c.left -= int64(n)
	if c.left <= 0 && err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// checkPath refuses an entry path that is not a plain relative path inside
// the package.
func checkPath(name string) error {
	bad := func(why string) error { return fail(ErrMalformed, "entry %q: %s", name, why) }
	switch {
	case name == "":
		return bad("an empty path")
	case len(name) > maxPath:
		return bad("a path over 100 bytes")
	case !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\\:"):
		return bad("a path with NUL, backslash, colon or invalid UTF-8")
	case strings.HasPrefix(name, "/"):
		return bad("an absolute path")
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return bad("a path outside the package")
		}
	}
	if path.Clean(name) != name || name == "." {
		return bad("not a clean path (no ./, // or trailing /)")
	}
	return nil
}

// entryKind names the kind of a non-regular entry, or "" for a regular
// file.
func entryKind(flag byte) string {
	switch flag {
	case tar.TypeReg, tar.TypeRegA:
		return ""
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "device"
	case tar.TypeDir:
		return "directory"
	case tar.TypeFifo:
		return "FIFO"
	}
	return "entry of type " + string(rune(flag))
}

// checkSums checks every file but SHA256SUMS and SIGNATURE against
// SHA256SUMS, and that SHA256SUMS lists nothing else.
func checkSums(files map[string][]byte) error {
	sums, ok := files[SumsFile]
	if !ok {
		return fail(ErrChecksum, "no %s", SumsFile)
	}
	listed := map[string]bool{}
	for i, line := range strings.Split(string(sums), "\n") {
		if line == "" && i == strings.Count(string(sums), "\n") {
			break
		}
		hexSum, name, ok := strings.Cut(line, "  ")
		sum, err := hex.DecodeString(hexSum)
		if !ok || err != nil || len(sum) != sha256.Size || hexSum != strings.ToLower(hexSum) {
			return fail(ErrMalformed, "%s line %d: want \"<sha256 in lower-case hex>  <path>\"", SumsFile, i+1)
		}
		if name == SumsFile || name == SignatureFile {
			return fail(ErrMalformed, "%s line %d: lists %s", SumsFile, i+1, name)
		}
		if listed[name] {
			return fail(ErrMalformed, "%s lists %q twice", SumsFile, name)
		}
		listed[name] = true
		b, ok := files[name]
		if !ok {
			return fail(ErrChecksum, "%s lists %q, which the package does not hold", SumsFile, name)
		}
		if got := sha256.Sum256(b); !bytes.Equal(got[:], sum) {
			return fail(ErrChecksum, "%q does not match its checksum in %s", name, SumsFile)
		}
	}
	for name := range files {
		if name != SumsFile && name != SignatureFile && !listed[name] {
			return fail(ErrChecksum, "%q is not listed in %s", name, SumsFile)
		}
	}
	return nil
}

// errShort is a WASM module that ends inside a section.
var errShort = errors.New("unexpected end")
