package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/rapportcrm/rapport/core/errcode"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	// Memory is in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultPasswordParams hash new passwords: 64 MiB, one pass, two lanes,
// one of the settings recommended for argon2id (RFC 9106 and OWASP).
var DefaultPasswordParams = PasswordParams{Memory: 64 * 1024, Time: 1, Threads: 2}

// Password policy bounds.
const (
	// MinPasswordLen is the fewest characters a password has.
	MinPasswordLen = 10
	// MaxPasswordBytes is the most bytes a password has.
	MaxPasswordBytes = 1024
)

const (
	saltLen = 16
	keyLen  = 32
	// maxMemory bounds the memory a stored hash may ask for (1 GiB), so
	// that a corrupt row cannot exhaust the server.
	maxMemory = 1 << 20
)

var b64 = base64.RawStdEncoding

// HashPassword hashes password with argon2id and DefaultPasswordParams,
// in the PHC string format: $argon2id$v=19$m=65536,t=1,p=2$salt$hash.
func HashPassword(password string) (string, error) {
	p := DefaultPasswordParams
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash is a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("not an argon2id password hash")

// VerifyPassword reports whether password matches encoded, a hash made by
// HashPassword (with any parameters), comparing in constant time.
func VerifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

var dummy struct {
	once sync.Once
	hash string
}

// PrepareSignIn computes ahead the hash SignIn checks passwords of unknown
// emails against, so that the first such sign-in takes no longer than the
// others. Servers call it once at start; it is safe to call many times.
func PrepareSignIn() {
	dummy.once.Do(func() {
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		dummy.hash, _ = HashPassword(b64.EncodeToString(raw[:]))
	})
}

// verifyDummy spends the time a password check takes, for an email with no
// account: the answer for it comes as late as for a wrong password.
func verifyDummy(password string) {
	PrepareSignIn()
	_, _ = VerifyPassword(dummy.hash, password)
}

// CheckPassword applies the password policy: at least MinPasswordLen
// characters, at most MaxPasswordBytes bytes, valid UTF-8, and not the
// account's email. Errors are BAD_USER_INPUT on field password.
func CheckPassword(password, email string) error {
	switch {
	case len(password) > MaxPasswordBytes:
		return errcode.Input("password", "the password is longer than %d bytes", MaxPasswordBytes)
	case !utf8.ValidString(password):
		return errcode.Input("password", "the password is not valid UTF-8")
	case utf8.RuneCountInString(password) < MinPasswordLen:
		return errcode.Input("password", "the password needs at least %d characters", MinPasswordLen)
	case strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return errcode.Input("password", "the password cannot be your email")
	}
	return nil
}
