// Package archive writes a whole workspace to one file and restores it into
// another, empty workspace: every record, the timeline, scores, segments
// and their memberships, automations with their runs and deliveries,
// extension bindings, the workspace's plugin packages and assessment
// answers.
//
// An archive is a gzip'd tar. Its first entry is manifest.json (the format
// version, a fingerprint of the schema, the workspace and the count of
// records per type); then comes one JSON Lines file per type, named after
// its table (contacts.jsonl, stage_changes.jsonl, ...), in the order a
// restore needs them: a record comes after the records it refers to. Each
// line is one record: its fields by column name, references as the source's
// IDs, and for organizations, contacts and deals their tags as "tags".
//
// What does not travel, on purpose:
//
//   - Members and API tokens. Access is granted in the target, not
//     copied: a restore never creates a member nor a credential.
//     members.jsonl lists the source's members (name, email, role) only so
//     that owners can be matched: a record owned by a member whose email
//     is a member of the target keeps that owner, otherwise it is
//     restored without one.
//   - The event outbox. It is delivery plumbing: restoring it would fire
//     automations and webhooks a second time. The timeline, restored in
//     full, is the record of what happened.
//   - Import jobs and their rejects: they hold the imported files and
//     belong to the run that made them.
//
// An archive holds the workspace's data, automation webhook secrets and
// plugin configuration included: keep it like a database backup.
//
// Writing streams: each type is read in pages by ID inside one read
// transaction (a consistent snapshot), as a viewer of the workspace, so
// the export sees nothing of other workspaces and memory does not grow
// with the workspace. Each type's file is spooled to a temporary file
// before it goes into the tar, whose headers need sizes.
//
// Restoring is one transaction, all or nothing, into a workspace that
// holds no record yet (members and tokens aside). Every record gets a new
// ID of its type (keeping the time part of the old ULID, so IDs still sort
// by creation), and every reference is rewritten: foreign keys, tag edges,
// the subjects of timeline entries, scores, memberships and runs, and IDs
// inside JSON values and audit strings (actors, idempotency keys). A
// foreign key to a record the archive does not hold is an error naming
// the file and line; the subject of a timeline entry or automation run,
// which may describe a record deleted for good, gets a fresh ID instead.
// Field values, creation and update times are kept; the restore writes no
// timeline entry, event or stage change of its own (tenancy.Untrailed).
package archive

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	gen "github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/migrate"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/schema"
)

// Format names the file format in the manifest.
const Format = "rapport-workspace-archive"

// Version is the format version this build writes and reads.
const Version = 1

// manifestName is the archive's first entry.
const manifestName = "manifest.json"

// pageSize is how many records are read at a time.
const pageSize = 1000

// Counts are the numbers of records per type, by file name without
// ".jsonl" (the table name: contacts, stage_changes, ...). Members are
// counted as archived, not as restored.
type Counts map[string]int

// String lists the non-zero counts, "contacts=3 deals=2".
func (c Counts) String() string {
	var parts []string
	for _, k := range kinds {
		if n := c[k.name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k.name, n))
		}
	}
	return strings.Join(parts, " ")
}

// Total is the sum of the counts.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// manifest is manifest.json.
type manifest struct {
	Format    string            `json:"format"`
	Version   int               `json:"version"`
	Schema    string            `json:"schema"`
	Workspace manifestWorkspace `json:"workspace"`
	CreatedAt time.Time         `json:"created_at"`
	Counts    Counts            `json:"counts"`
}

type manifestWorkspace struct {
	ID   pulid.ID `json:"id"`
	Slug string   `json:"slug"`
	Name string   `json:"name"`
}

// schemaFingerprint is a digest of the archived tables and their columns:
// two builds with the same fingerprint read each other's archives field
// for field.
func schemaFingerprint() string {
	h := sha256.New()
	for _, k := range kinds {
		for _, t := range migrate.Tables {
			if t.Name != k.name {
				continue
			}
			fmt.Fprintf(h, "%s(", t.Name)
			for _, c := range t.Columns {
				fmt.Fprintf(h, "%s %s %v,", c.Name, c.Type, c.Nullable)
			}
			fmt.Fprint(h, ")\n")
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Write writes the archive of the workspace of ctx's viewer to w and
// returns the records it holds per type. It reads as a viewer of that
// workspace, whatever the caller's role, in one read transaction.
func Write(ctx context.Context, client *gen.Client, w io.Writer) (Counts, error) {
	v := tenancy.FromContext(ctx)
	if v == nil || v.WorkspaceID == "" {
		return nil, errcode.New(errcode.Unauthenticated, "archive: no workspace in context")
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: v.WorkspaceID, Role: tenancy.RoleViewer, MemberID: v.MemberID, TokenID: v.TokenID})
	ctx = schema.IncludeDeleted(ctx)
	tx, err := client.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		// SQLite has no such options; its transactions read one snapshot.
		if tx, err = client.Tx(ctx); err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
	}
	defer func() { _ = tx.Rollback() }()
	c := tx.Client()
	ws, err := c.Workspace.Get(ctx, v.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("archive: workspace: %w", err)
	}
	m := manifest{
		Format: Format, Version: Version, Schema: schemaFingerprint(),
		Workspace: manifestWorkspace{ID: ws.ID, Slug: ws.Slug, Name: ws.Name},
		CreatedAt: time.Now().UTC().Truncate(time.Second),
		Counts:    Counts{},
	}
	for _, k := range kinds {
		n, err := k.count(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("archive: count %s: %w", k.name, err)
		}
		m.Counts[k.name] = n
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	mb = append(mb, '\n')
	if err := writeEntry(tw, manifestName, m.CreatedAt, int64(len(mb)), strings.NewReader(string(mb))); err != nil {
		return nil, err
	}
	for _, k := range kinds {
		if m.Counts[k.name] == 0 {
			continue
		}
		if err := writeKind(ctx, c, tw, k, m.Counts[k.name], m.CreatedAt); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return m.Counts, nil
}

func writeEntry(tw *tar.Writer, name string, at time.Time, size int64, r io.Reader) error {
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: at, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archive: %s: %w", name, err)
	}
	if _, err := io.Copy(tw, r); err != nil {
		return fmt.Errorf("archive: %s: %w", name, err)
	}
	return nil
}

// writeKind spools the records of k to a temporary file and copies it
// into the tar.
func writeKind(ctx context.Context, c *gen.Client, tw *tar.Writer, k *kind, want int, at time.Time) error {
	tmp, err := os.CreateTemp("", "rapport-archive-*.jsonl")
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 1<<16)
	n := 0
	var after pulid.ID
	var line []byte
	for {
		rows, err := k.page(ctx, c, after, pageSize)
		if err != nil {
			return fmt.Errorf("archive: read %s: %w", k.name, err)
		}
		for _, r := range rows {
			line, after, err = encodeRecord(line[:0], k, r)
			if err != nil {
				return fmt.Errorf("archive: %s %s: %w", k.name, after, err)
			}
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("archive: %w", err)
			}
			n++
		}
		if len(rows) < pageSize {
			break
		}
	}
	if n != want {
		return fmt.Errorf("archive: %s: counted %d records but read %d", k.name, want, n)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return writeEntry(tw, k.file(), at, size, tmp)
}

// encodeRecord appends the JSON line of r, a *T of k, to buf, and returns
// the record's ID. Fields are in schema order; nil values and the
// workspace are left out.
func encodeRecord(buf []byte, k *kind, r any) ([]byte, pulid.ID, error) {
	v := reflect.ValueOf(r).Elem()
	id := v.FieldByName("ID").Interface().(pulid.ID)
	buf = append(buf, '{')
	first := true
	for _, f := range k.fields {
		if f.name == "workspace_id" {
			continue
		}
		fv := v.Field(f.index)
		switch fv.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			if fv.IsNil() {
				continue
			}
		}
		b, err := json.Marshal(fv.Interface())
		if err != nil {
			return buf, id, fmt.Errorf("%s: %w", f.name, err)
		}
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, '"')
		buf = append(buf, f.name...)
		buf = append(buf, '"', ':')
		buf = append(buf, b...)
	}
	if k.tagged {
		tags := v.FieldByName("Edges").FieldByName("Tags")
		ids := make([]string, 0, tags.Len())
		for i := 0; i < tags.Len(); i++ {
			ids = append(ids, string(tags.Index(i).Elem().FieldByName("ID").Interface().(pulid.ID)))
		}
		sort.Strings(ids)
		b, _ := json.Marshal(ids)
		buf = append(buf, `,"tags":`...)
		buf = append(buf, b...)
	}
	buf = append(buf, '}', '\n')
	return buf, id, nil
}
