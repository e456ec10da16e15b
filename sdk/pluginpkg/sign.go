package pluginpkg

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Key and signature line types.
const (
	// PublicKeyType starts a public key line: "rapport-ed25519 <base64> <comment>".
	PublicKeyType = "rapport-ed25519"
	// PrivateKeyType starts a private key file: "rapport-ed25519-private <base64 seed> <comment>".
	PrivateKeyType = "rapport-ed25519-private"
	// SignatureType starts a SIGNATURE line: "rapport-ed25519-sig <base64 public key> <base64 signature>".
	SignatureType = "rapport-ed25519-sig"
	// signingContext precedes SHA256SUMS in what is signed, so that a
	// package signature is never valid as anything else.
	signingContext = "rapport plugin package v1\n"
)

// PublicKey is an Ed25519 public key with a comment (who it is).
type PublicKey struct {
	Key     ed25519.PublicKey
	Comment string
}

// String is the key's one-line text form, as keys.txt holds it.
func (k PublicKey) String() string {
	s := PublicKeyType + " " + base64.StdEncoding.EncodeToString(k.Key)
	if k.Comment != "" {
		s += " " + k.Comment
	}
	return s
}

// Fingerprint is a short name of the key: the first 16 hex digits of its
// SHA-256.
func (k PublicKey) Fingerprint() string { return fingerprint(k.Key) }

func fingerprint(key ed25519.PublicKey) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// PrivateKey is an Ed25519 private key with the comment of its public key.
type PrivateKey struct {
	Key     ed25519.PrivateKey
	Comment string
}

// Public returns the key's public half.
func (k PrivateKey) Public() PublicKey {
	return PublicKey{Key: k.Key.Public().(ed25519.PublicKey), Comment: k.Comment}
}

// MarshalText is the private key file's content (keep it 0600).
func (k PrivateKey) MarshalText() ([]byte, error) {
	s := PrivateKeyType + " " + base64.StdEncoding.EncodeToString(k.Key.Seed())
	if k.Comment != "" {
		s += " " + k.Comment
	}
	return []byte(s + "\n"), nil
}

// GenerateKey makes a new key pair; comment names its owner (one line).
func GenerateKey(comment string) (PrivateKey, error) {
	if strings.ContainsAny(comment, "\r\n") {
		return PrivateKey{}, fmt.Errorf("a key comment is one line")
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return PrivateKey{}, err
	}
	return PrivateKey{Key: priv, Comment: strings.TrimSpace(comment)}, nil
}

// ParsePrivateKey reads a private key file.
func ParsePrivateKey(b []byte) (PrivateKey, error) {
	typ, key, comment := splitLine(strings.TrimSpace(string(b)))
	if typ != PrivateKeyType {
		return PrivateKey{}, fmt.Errorf("not a Rapport private key: want a line starting %q", PrivateKeyType)
	}
	seed, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(seed) != ed25519.SeedSize {
		return PrivateKey{}, fmt.Errorf("private key: want %d bytes of base64", ed25519.SeedSize)
	}
	return PrivateKey{Key: ed25519.NewKeyFromSeed(seed), Comment: comment}, nil
}

// ParsePublicKey reads one public key line.
func ParsePublicKey(line string) (PublicKey, error) {
	typ, key, comment := splitLine(strings.TrimSpace(line))
	if typ != PublicKeyType {
		return PublicKey{}, fmt.Errorf("not a Rapport public key: want %q <base64> [comment]", PublicKeyType)
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("public key: want %d bytes of base64", ed25519.PublicKeySize)
	}
	return PublicKey{Key: ed25519.PublicKey(raw), Comment: comment}, nil
}

// ParseTrust reads a trust file: one public key per line; blank lines and
// lines starting with # are ignored. A line that is not a key is an error
// naming the line.
func ParseTrust(b []byte) ([]PublicKey, error) {
	var keys []PublicKey
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := ParsePublicKey(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func splitLine(s string) (typ, key, comment string) {
	typ, rest, _ := strings.Cut(s, " ")
	key, comment, _ = strings.Cut(strings.TrimLeft(rest, " "), " ")
	return typ, key, strings.TrimSpace(comment)
}

// Signature is one line of SIGNATURE: a public key and its signature over
// the package's SHA256SUMS.
type Signature struct {
	Key ed25519.PublicKey
	Sig []byte
}

// Fingerprint is the short name of the signing key.
func (s Signature) Fingerprint() string { return fingerprint(s.Key) }

func (s Signature) line() string {
	return SignatureType + " " + base64.StdEncoding.EncodeToString(s.Key) + " " + base64.StdEncoding.EncodeToString(s.Sig)
}

func (s Signature) verifies(sums []byte) bool {
	return ed25519.Verify(s.Key, signed(sums), s.Sig)
}

func signed(sums []byte) []byte { return append([]byte(signingContext), sums...) }

// parseSignatures reads SIGNATURE; a line not of its form is ErrMalformed.
func parseSignatures(b []byte) ([]Signature, error) {
	var out []Signature
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		if len(f) != 3 || f[0] != SignatureType {
			return nil, fail(ErrMalformed, "%s line %d: want %q <base64 public key> <base64 signature>", SignatureFile, i+1, SignatureType)
		}
		key, err1 := base64.StdEncoding.DecodeString(f[1])
		sig, err2 := base64.StdEncoding.DecodeString(f[2])
		if err1 != nil || err2 != nil || len(key) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
			return nil, fail(ErrMalformed, "%s line %d: a bad key or signature", SignatureFile, i+1)
		}
		out = append(out, Signature{Key: key, Sig: sig})
	}
	if len(out) > 8 {
		return nil, fail(ErrMalformed, "%s: more than 8 signatures", SignatureFile)
	}
	return out, nil
}

// Sign adds key's signature over SHA256SUMS to the package data (replacing
// an earlier signature by the same key; others stay) and returns the new
// package, compressed as the old one was. The package is read, and so
// checked, first.
func Sign(data []byte, key PrivateKey, lim Limits) ([]byte, error) {
	p, err := Read(data, lim)
	if err != nil {
		return nil, err
	}
	pub := key.Public().Key
	var lines []string
	for _, s := range p.Signatures {
		if !bytes.Equal(s.Key, pub) {
			lines = append(lines, s.line())
		}
	}
	s := Signature{Key: pub, Sig: ed25519.Sign(key.Key, signed(p.Sums()))}
	lines = append(lines, s.line())
	files := map[string][]byte{}
	for name, b := range p.Files {
		files[name] = b
	}
	files[SignatureFile] = []byte(strings.Join(lines, "\n") + "\n")
	return Pack(files, PackOptions{NoGzip: !p.Gzip})
}

// Policy is what a server or a verifier trusts.
type Policy struct {
	// Trusted are the keys whose signatures are trusted.
	Trusted []PublicKey
	// RequireSigned refuses a package without a signature by a trusted key.
	RequireSigned bool
}

// Verify applies the policy to a package that Read returned: every
// signature it carries must verify over its SHA256SUMS (ErrBadSignature
// otherwise, whoever the key); under RequireSigned one of them must be by
// a trusted key (ErrNotSigned when there is no signature, ErrUntrustedKey
// when none is trusted). It returns the trusted key that signed, if any.
func Verify(p *Package, pol Policy) (*PublicKey, error) {
	for _, s := range p.Signatures {
		if !s.verifies(p.Sums()) {
			return nil, fail(ErrBadSignature, "the signature by key %s does not verify over %s: the package changed after it was signed", s.Fingerprint(), SumsFile)
		}
	}
	for _, s := range p.Signatures {
		for _, k := range pol.Trusted {
			if bytes.Equal(k.Key, s.Key) {
				k := k
				return &k, nil
			}
		}
	}
	if !pol.RequireSigned {
		return nil, nil
	}
	if len(p.Signatures) == 0 {
		return nil, fail(ErrNotSigned, "%s is not signed, and only signed packages are accepted", p.Manifest.Ref())
	}
	fps := make([]string, len(p.Signatures))
	for i, s := range p.Signatures {
		fps[i] = s.Fingerprint()
	}
	return nil, fail(ErrUntrustedKey, "%s is signed by key %s, which is not trusted", p.Manifest.Ref(), strings.Join(fps, ", "))
}
