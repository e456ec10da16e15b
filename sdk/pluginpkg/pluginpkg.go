// Package pluginpkg writes, reads, signs and verifies Rapport plugin
// packages: one file, NAME-VERSION.rpk, that carries a WASM plugin from its
// author to a server, where a workspace admin installs it (see
// sdk/PACKAGES.md).
//
// A package is a tar archive, gzip-compressed or not, of regular files:
//
//	plugin.json   the manifest (runtime "wasm")
//	<module>      the WASM module the manifest names
//	<questions>   the question set, when the manifest names one
//	SHA256SUMS    "<hex sha256>  <path>" per file above, sorted by path
//	SIGNATURE     optional: one line per signature over SHA256SUMS
//
// Pack writes the same bytes for the same files: fixed entry order, zero
// times, owners and modes 0644. Read refuses, with an error that says why,
// anything a hostile upload could try: an archive or contents over the
// size caps, paths leaving the package, links and devices, duplicate
// entries, files missing from or unlisted in SHA256SUMS or not matching it,
// a process plugin, and a module importing anything but the host functions
// of sdk/ABI.md. Verify applies a trust policy to a package's signatures.
//
// The package imports nothing of the server, so that authors' tools can
// use it.
package pluginpkg

import (
	"errors"
	"fmt"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// Names of the package's own files.
const (
	// SumsFile lists the SHA-256 of every other file but SignatureFile.
	SumsFile = "SHA256SUMS"
	// SignatureFile holds the signatures over SumsFile, one per line.
	SignatureFile = "SIGNATURE"
	// Ext is a package file's extension.
	Ext = ".rpk"
)

// Default caps of Limits.
const (
	// DefaultMaxSize is the default cap on a package file (16 MiB).
	DefaultMaxSize = 16 << 20
	// DefaultMaxUnpacked is the default cap on its files together once
	// decompressed (64 MiB).
	DefaultMaxUnpacked = 64 << 20
	// maxEntries bounds the entries of an archive: a package holds at most
	// five files.
	maxEntries = 16
	// maxPath bounds an entry's path (a USTAR name field).
	maxPath = 100
	// maxSmallFile bounds plugin.json, SHA256SUMS, SIGNATURE and the
	// question set.
	maxSmallFile = 1 << 20
)

// Limits bound what Read accepts. Zero values take the defaults.
type Limits struct {
	// MaxSize caps the package file, compressed, in bytes
	// (DefaultMaxSize).
	MaxSize int64
	// MaxUnpacked caps the package's files together, decompressed, in bytes
	// (DefaultMaxUnpacked): a gzip bomb stops here.
	MaxUnpacked int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxSize <= 0 {
		l.MaxSize = DefaultMaxSize
	}
	if l.MaxUnpacked <= 0 {
		l.MaxUnpacked = DefaultMaxUnpacked
	}
	return l
}

// Package is a package that Read found sound.
type Package struct {
	// Manifest is plugin.json, checked.
	Manifest *manifest.Manifest
	// Files holds every file of the package by path, SHA256SUMS and
	// SIGNATURE included.
	Files map[string][]byte
	// Signatures are the parsed lines of SIGNATURE; none when unsigned.
	// Read checks their form, not whether they verify: see Verify.
	Signatures []Signature
	// Gzip tells whether the archive was compressed.
	Gzip bool
}

// Module returns the WASM module's bytes.
func (p *Package) Module() []byte { return p.Files[p.Manifest.Module] }

// Sums returns the content of SHA256SUMS, what signatures sign.
func (p *Package) Sums() []byte { return p.Files[SumsFile] }

// FileName is the name Pack gives a package: NAME-VERSION.rpk.
func FileName(m *manifest.Manifest) string { return m.Name + "-" + m.Version + Ext }

// Errors Read and Verify wrap, for callers to test with errors.Is.
var (
	// ErrMalformed: not a well-formed package (bad archive, paths, links,
	// duplicates, manifest, module).
	ErrMalformed = errors.New("malformed plugin package")
	// ErrTooLarge: the package or its contents are over a cap.
	ErrTooLarge = errors.New("plugin package too large")
	// ErrChecksum: a file is missing from, unlisted in, or does not match
	// SHA256SUMS.
	ErrChecksum = errors.New("plugin package checksum mismatch")
	// ErrNotSigned: the policy requires a signature and there is none.
	ErrNotSigned = errors.New("plugin package not signed")
	// ErrUntrustedKey: the package is signed, but by no trusted key.
	ErrUntrustedKey = errors.New("plugin package signed by an untrusted key")
	// ErrBadSignature: a signature does not verify over SHA256SUMS.
	ErrBadSignature = errors.New("plugin package signature does not verify")
	// ErrProcess: packages carry WASM plugins only.
	ErrProcess = errors.New("process plugins cannot be packaged")
	// ErrImport: the module imports a function the host does not provide.
	ErrImport = errors.New("plugin module imports what the host does not provide")
)

// Error is a refusal of Read or Verify: Kind is one of the Err values
// above, Reason says what was found.
type Error struct {
	Kind   error
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%v: %s", e.Kind, e.Reason) }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func fail(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}
