package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/rapportcrm/rapport/core/ent/migrate"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
)

// Bounds on what a restore reads.
const (
	maxManifest = 1 << 20
	// maxCount bounds one type's records.
	maxCount = 100_000_000
	// expansion bounds the uncompressed size against the compressed
	// one; floor is the least allowed.
	expansion = 128
	floor     = 256 << 20
	// unbounded is the limit when the compressed size is unknown.
	unbounded = 64 << 30
)

// archiveError is a user error about the archive's contents.
func archiveError(format string, args ...any) error {
	return errcode.Input("archive", format, args...)
}

var errTooBig = errors.New("too big")

// capped fails reads past n bytes.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errTooBig
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// scan reads an archive of size compressed bytes (0 when unknown): the
// manifest, then each type's file in order, line by line. It checks the
// structure (entry names, order, sizes, counts) and hands over each line;
// the caller decodes it.
func scan(r io.Reader, size int64, onManifest func(*manifest) error, each func(k *kind, line int, b []byte) error) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return archiveError("not a workspace archive (gzip'd tar): %v", err)
	}
	zr.Multistream(false)
	limit := int64(unbounded)
	if size > 0 {
		limit = max(floor, size*expansion)
	}
	cr := &capped{r: zr, n: limit}
	tr := tar.NewReader(cr)
	wrap := func(name string, err error) error {
		switch {
		case errors.Is(err, errTooBig):
			return archiveError("%s: the archive expands past %d bytes, more than its size allows", name, limit)
		case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, tar.ErrHeader):
			return archiveError("%s: the archive is truncated or corrupt: %v", name, err)
		}
		var ce *errcode.Error
		if errors.As(err, &ce) {
			return err
		}
		return archiveError("%s: %v", name, err)
	}
	hdr, err := tr.Next()
	if err == io.EOF {
		return archiveError("the archive is empty")
	}
	if err != nil {
		return wrap("manifest.json", err)
	}
	if hdr.Name != manifestName || hdr.Typeflag != tar.TypeReg {
		return archiveError("the first entry is %q, not %s: not a workspace archive", hdr.Name, manifestName)
	}
	if hdr.Size > maxManifest {
		return archiveError("%s is %d bytes, more than %d", manifestName, hdr.Size, maxManifest)
	}
	mb, err := io.ReadAll(io.LimitReader(tr, maxManifest+1))
	if err != nil {
		return wrap(manifestName, err)
	}
	m, err := parseManifest(mb)
	if err != nil {
		return err
	}
	if err := onManifest(m); err != nil {
		return err
	}
	pos := -1
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return wrap("archive", err)
		}
		k, i := byFile(hdr.Name)
		if k == nil {
			return archiveError("unexpected entry %q", hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			return archiveError("entry %q is not a regular file", hdr.Name)
		}
		if i <= pos {
			return archiveError("entry %q is repeated or out of order", hdr.Name)
		}
		if hdr.Size > cr.n {
			return archiveError("%s: %d bytes, more than the archive's size allows", hdr.Name, hdr.Size)
		}
		// Every type between the last and this one must be empty.
		for _, skipped := range kinds[pos+1 : i] {
			if m.Counts[skipped.name] > 0 {
				return archiveError("entry %q is missing", skipped.file())
			}
		}
		pos = i
		want := m.Counts[k.name]
		br := bufio.NewReaderSize(tr, 1<<16)
		n := 0
		for {
			line, err := readLine(br, k.maxLine)
			if err == io.EOF {
				break
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return archiveError("%s line %d: longer than %d bytes", hdr.Name, n+1, k.maxLine)
			}
			if err != nil {
				return wrap(hdr.Name, err)
			}
			n++
			if n > want {
				return archiveError("%s: more records than the manifest's %d", hdr.Name, want)
			}
			if err := each(k, n, line); err != nil {
				return err
			}
		}
		if n != want {
			return archiveError("%s: %d records, but the manifest counts %d: the archive is truncated or corrupt", hdr.Name, n, want)
		}
	}
	for _, k := range kinds[pos+1:] {
		if m.Counts[k.name] > 0 {
			return archiveError("entry %q is missing: the archive is truncated", k.file())
		}
	}
	// The gzip stream must end here: nothing but tar padding follows.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return wrap("archive", err)
	}
	return nil
}

func parseManifest(b []byte) (*manifest, error) {
	var m manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, archiveError("%s: %v", manifestName, err)
	}
	if m.Format != Format {
		return nil, archiveError("%s: format %q, not %q: not a workspace archive", manifestName, m.Format, Format)
	}
	if m.Version != Version {
		return nil, archiveError("%s: format version %d; this Rapport reads version %d", manifestName, m.Version, Version)
	}
	for name, n := range m.Counts {
		if k, _ := byFile(name + ".jsonl"); k == nil {
			return nil, archiveError("%s: unknown record type %q", manifestName, name)
		}
		if n < 0 || n > maxCount {
			return nil, archiveError("%s: %s: count %d out of range", manifestName, name, n)
		}
	}
	return &m, nil
}

// readLine reads one line of at most limit bytes, without its newline;
// io.EOF once no line is left. A line longer than limit is
// bufio.ErrBufferFull.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > limit+1 {
			return nil, bufio.ErrBufferFull
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(line) == 0 {
				return nil, io.EOF
			}
			return line, nil
		default:
			return nil, err
		}
	}
}

// decoder turns lines into records to create, mapping IDs as it goes.
type decoder struct {
	// ids maps the archive's records to their new IDs.
	ids map[pulid.ID]pulid.ID
	// loose maps IDs the archive mentions but does not hold (a deleted
	// subject of a timeline entry, an event) to fresh ones.
	loose map[pulid.ID]pulid.ID
	// members maps the archive's members to the target's, by email.
	members map[pulid.ID]pulid.ID
	// targetMembers are the target's members by lower-case email.
	targetMembers map[string]pulid.ID
}

func newDecoder(targetMembers map[string]pulid.ID) *decoder {
	return &decoder{ids: map[pulid.ID]pulid.ID{}, loose: map[pulid.ID]pulid.ID{}, members: map[pulid.ID]pulid.ID{}, targetMembers: targetMembers}
}

// record is a decoded line: the fields to set on create.
type record struct {
	id   pulid.ID
	sets []fieldValue
	tags []pulid.ID
	// required is a custom field definition's "required", which is set
	// once the records are in.
	required bool
	size     int
}

type fieldValue struct {
	name  string
	value any
}

// refRule says how a reference field is mapped.
type refRule int

const (
	strict refRule = iota // must be a record of the archive
	owner                 // a member: matched by email, else unset
	loose                 // mapped if in the archive, else a fresh ID
)

// strictFields are the reference columns that must name a record of the
// archive: foreign keys, and the subjects of scores and memberships,
// which the schema checks like links.
var strictFields = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, t := range migrate.Tables {
		cols := map[string]bool{}
		for _, fk := range t.ForeignKeys {
			for _, c := range fk.Columns {
				cols[c.Name] = true
			}
		}
		out[t.Name] = cols
	}
	out["scores"]["subject_id"] = true
	out["segment_memberships"]["subject_id"] = true
	return out
}()

func ruleOf(k *kind, field string) refRule {
	switch {
	case field == "owner_id":
		return owner
	case strictFields[k.name][field]:
		return strict
	}
	return loose
}

// textFields are string fields that may hold IDs inside text: audit
// actors ("member:mem_…") and idempotency keys ("aut_…:evt_…").
var textFields = map[string]bool{"actor": true, "answered_by": true, "installed_by": true, "key": true, "lock": true}

// plainJSON are JSON fields holding no IDs: values people typed.
var plainJSON = map[string]bool{"custom_fields": true, "options": true, "errors": true}

var (
	timeType  = reflect.TypeOf(time.Time{})
	bytesType = reflect.TypeOf([]byte(nil))
	idInText  = regexp.MustCompile(`\b[a-z]{2,8}_[0-9a-hjkmnp-tv-z]{26}\b`)
)

// newID is a fresh ID of old's type, keeping the time of old's ULID so
// that IDs still sort by creation.
func newID(old pulid.ID) pulid.ID {
	prefix, rest, _ := strings.Cut(string(old), "_")
	ms := ulid.Now()
	if u, err := ulid.ParseStrict(strings.ToUpper(rest)); err == nil {
		ms = u.Time()
	}
	return pulid.ID(prefix + "_" + strings.ToLower(ulid.MustNew(ms, rand.Reader).String()))
}

// anyID maps an ID mentioned anywhere: the record's new ID, the matched
// member, or a fresh ID kept for every mention of the same unknown one.
func (d *decoder) anyID(id pulid.ID) pulid.ID {
	if n, ok := d.ids[id]; ok {
		return n
	}
	if n, ok := d.members[id]; ok {
		return n
	}
	if n, ok := d.loose[id]; ok {
		return n
	}
	if len(d.loose) >= maxCount {
		return id
	}
	n := newID(id)
	d.loose[id] = n
	return n
}

func (d *decoder) rewriteText(s string) string {
	return idInText.ReplaceAllStringFunc(s, func(t string) string {
		if _, err := pulid.Parse(t); err != nil {
			return t
		}
		return string(d.anyID(pulid.ID(t)))
	})
}

// rewriteJSON replaces the IDs in every string of v.
func (d *decoder) rewriteJSON(v any) any {
	switch x := v.(type) {
	case string:
		return d.rewriteText(x)
	case []any:
		for i := range x {
			x[i] = d.rewriteJSON(x[i])
		}
		return x
	case map[string]any:
		for k, e := range x {
			x[k] = d.rewriteJSON(e)
		}
		return x
	}
	return v
}

// decode reads line n of k's file.
func (d *decoder) decode(k *kind, n int, line []byte) (*record, error) {
	where := fmt.Sprintf("%s line %d", k.file(), n)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, archiveError("%s: not a JSON object: %v", where, err)
	}
	var oldID pulid.ID
	if err := json.Unmarshal(raw["id"], &oldID); err != nil || oldID == "" {
		return nil, archiveError("%s: no id", where)
	}
	if _, err := pulid.Parse(string(oldID)); err != nil || oldID.Prefix() != k.prefix {
		return nil, archiveError("%s: id %q is not an ID of a %s", where, oldID, k.typ)
	}
	if _, dup := d.ids[oldID]; dup {
		return nil, archiveError("%s: id %s appears twice", where, oldID)
	}
	if _, dup := d.members[oldID]; dup {
		return nil, archiveError("%s: id %s appears twice", where, oldID)
	}
	if k.reference {
		var m struct {
			Email string `json:"email"`
		}
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, archiveError("%s: %v", where, err)
		}
		if t, ok := d.targetMembers[strings.ToLower(m.Email)]; ok {
			d.members[oldID] = t
		}
		return nil, nil
	}
	rec := &record{id: newID(oldID), size: len(line)}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		val := raw[name]
		if name == "id" || name == "workspace_id" {
			continue
		}
		if name == "tags" && k.tagged {
			var tags []pulid.ID
			if err := json.Unmarshal(val, &tags); err != nil {
				return nil, archiveError("%s: tags: %v", where, err)
			}
			for _, t := range tags {
				nt, ok := d.ids[t]
				if !ok || t.Prefix() != "tag" {
					return nil, archiveError("%s: tags: %s is not a tag of the archive", where, t)
				}
				rec.tags = append(rec.tags, nt)
			}
			continue
		}
		f := k.byName[name]
		if f == nil {
			return nil, archiveError("%s: unknown field %q (an archive of a newer Rapport?)", where, name)
		}
		ft := f.typ
		base := ft
		if base.Kind() == reflect.Pointer {
			base = base.Elem()
		}
		isJSON := base != timeType && base != bytesType && (base.Kind() == reflect.Map || base.Kind() == reflect.Slice || base.Kind() == reflect.Struct)
		if isJSON && !plainJSON[name] {
			dec := json.NewDecoder(bytes.NewReader(val))
			dec.UseNumber()
			var generic any
			if err := dec.Decode(&generic); err != nil {
				return nil, archiveError("%s: %s: %v", where, name, err)
			}
			b, err := json.Marshal(d.rewriteJSON(generic))
			if err != nil {
				return nil, archiveError("%s: %s: %v", where, name, err)
			}
			val = b
		}
		ptr := reflect.New(ft)
		if err := json.Unmarshal(val, ptr.Interface()); err != nil {
			return nil, archiveError("%s: %s: %v", where, name, err)
		}
		fv := ptr.Elem()
		explicit := false
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv, explicit = fv.Elem(), true
		}
		switch {
		case fv.Type() == pulidType:
			id := fv.Interface().(pulid.ID)
			if id == "" {
				break
			}
			if _, err := pulid.Parse(string(id)); err != nil {
				return nil, archiveError("%s: %s: %q is not an ID", where, name, id)
			}
			switch ruleOf(k, name) {
			case owner:
				m, ok := d.members[id]
				if !ok {
					continue
				}
				id = m
			case strict:
				nid, ok := d.ids[id]
				if !ok {
					return nil, archiveError("%s: %s: %s is not a record of the archive", where, name, id)
				}
				id = nid
			default:
				id = d.anyID(id)
			}
			fv = reflect.ValueOf(id)
		case fv.Kind() == reflect.String && textFields[name]:
			nv := reflect.New(fv.Type()).Elem()
			nv.SetString(d.rewriteText(fv.String()))
			fv = nv
		}
		if k.name == "custom_fields" && name == "required" {
			rec.required = fv.Bool()
			fv = reflect.ValueOf(false)
		}
		if !explicit && fv.IsZero() && f.nullable && !f.hasDef {
			continue
		}
		rec.sets = append(rec.sets, fieldValue{name: name, value: fv.Interface()})
	}
	d.ids[oldID] = rec.id
	return rec, nil
}
