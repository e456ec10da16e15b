package idic

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Contact is what identification reads of a contact.
type Contact struct {
	ID                           string
	FirstName, LastName          string
	Email, Phone, OrganizationID string
}

// Reason is why two contacts may be the same person.
type Reason string

// The reasons, with the confidence each gives on its own (DefaultConfig).
const (
	SameEmail            Reason = "same_email"
	SamePhone            Reason = "same_phone"
	SameNameOrganization Reason = "same_name_and_organization"
)

// Duplicate is a pair of contacts that may be one person: A < B by ID.
type Duplicate struct {
	A, B       string
	Confidence float64
	Reasons    []Reason
}

// NormalEmail returns the email as compared: trimmed, lower case, and
// without a "+tag" in the local part; "" when it is not an address.
func NormalEmail(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" {
		return ""
	}
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

// NormalPhone returns the phone's digits, without a leading international
// prefix "00" and keeping the last 10 (so "+1 (415) 555-0100" and
// "415.555.0100" agree); "" when fewer than 7 digits remain.
func NormalPhone(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := strings.TrimPrefix(b.String(), "00")
	if len(d) > 10 {
		d = d[len(d)-10:]
	}
	if len(d) < 7 {
		return ""
	}
	return d
}

// NormalName returns a name as compared: accents removed, lower case,
// letters and digits only, words separated by one space.
func NormalName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}

// Identify finds candidate duplicates: contacts sharing a normalised
// email, a normalised phone, or a normalised full name within the same
// organization. Each shared key is a reason with a confidence c (from
// cfg); a pair's confidence combines its reasons as independent
// evidence, 1 − Π (1 − c). Pairs below cfg.MinConfidence are dropped.
// The result is by confidence, highest first, then by IDs.
func Identify(contacts []Contact, cfg Config) []Duplicate {
	type key struct {
		reason Reason
		value  string
	}
	groups := map[key][]string{}
	for _, c := range contacts {
		if c.ID == "" {
			continue
		}
		if e := NormalEmail(c.Email); e != "" {
			k := key{SameEmail, e}
			groups[k] = append(groups[k], c.ID)
		}
		if p := NormalPhone(c.Phone); p != "" {
			k := key{SamePhone, p}
			groups[k] = append(groups[k], c.ID)
		}
		if n := NormalName(c.FirstName + " " + c.LastName); n != "" && c.OrganizationID != "" {
			k := key{SameNameOrganization, c.OrganizationID + "\x00" + n}
			groups[k] = append(groups[k], c.ID)
		}
	}
	type pair struct{ a, b string }
	reasons := map[pair]map[Reason]bool{}
	for k, ids := range groups {
		if len(ids) < 2 || len(ids) > cfg.MaxGroup {
			// A key shared by very many contacts (a switchboard number,
			// info@) says nothing about any two of them.
			continue
		}
		sort.Strings(ids)
		for i := range ids {
			for j := i + 1; j < len(ids); j++ {
				if ids[i] == ids[j] {
					continue
				}
				p := pair{ids[i], ids[j]}
				if reasons[p] == nil {
					reasons[p] = map[Reason]bool{}
				}
				reasons[p][k.reason] = true
			}
		}
	}
	conf := map[Reason]float64{SameEmail: cfg.EmailConfidence, SamePhone: cfg.PhoneConfidence, SameNameOrganization: cfg.NameConfidence}
	var out []Duplicate
	for p, rs := range reasons {
		d := Duplicate{A: p.a, B: p.b}
		miss := 1.0
		for _, r := range []Reason{SameEmail, SamePhone, SameNameOrganization} {
			if rs[r] {
				d.Reasons = append(d.Reasons, r)
				miss *= 1 - conf[r]
			}
		}
		d.Confidence = 1 - miss
		if d.Confidence >= cfg.MinConfidence {
			out = append(out, d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Confidence != out[j].Confidence {
			return out[i].Confidence > out[j].Confidence
		}
		if out[i].A != out[j].A {
			return out[i].A < out[j].A
		}
		return out[i].B < out[j].B
	})
	return out
}
