// Package transfer imports records into a workspace from the files other
// CRMs and spreadsheets export. An import is a job (schema.ImportJob)
// that holds its file, so any worker can run it: it reads the file with
// core/transfer/read, maps its columns with core/transfer/mapping, parses
// cells with core/transfer/value, and writes records in batches, each in
// one transaction with the job's progress, so a job whose process died
// resumes after its last committed batch and ends as an uninterrupted run
// would.
//
// Imported records keep their source's ID (external_source, external_id)
// and dates: a second run of the same file updates what the first
// created, and the timeline says the records were made when the source
// made them. Imports fire no automation unless asked.
//
// # Matching, duplicates and merge
//
// A row is the record of its source and ID when the workspace has one.
// A row without an ID is the record it names by its natural key, so a
// file without IDs can be imported twice: an organization by its domain,
// else its name; a contact by its email, else its phone, else its name;
// a lead by its email; a deal by its name; a product by its SKU, else its
// name; an order by its number; an activity by its kind, subject and
// time.
//
// A row with an ID the workspace does not know, whose natural key is an
// existing record's (or an earlier row's of the same file), is a
// duplicate: the row is rejected with reason "duplicate", naming the
// column and the record. A phone number makes a contact a duplicate only
// when one of the two has no email (colleagues share a switchboard).
//
// With Options.Merge a duplicate row is folded into the record it
// repeats, by one rule: each non-empty cell of the row replaces the
// record's value, an empty cell keeps it, custom fields merge key by
// key, and the record keeps its own source ID (taking the row's when it
// has none). The record's creation date is kept.
//
// # Links
//
// Contacts link to organizations by the organization's source ID, else
// its name, else the email's domain. Deals, activities and orders link to
// organizations, contacts and deals by source ID or name (contacts also
// by email), and to members by email or name. A reference that finds
// nothing rejects the row ("unknown_organization", "unknown_contact",
// "unknown_deal", "unknown_owner"): a link is never dropped silently.
// Deals go to the pipeline and stage they name; with
// Options.CreateMissing the missing ones are made (a stage named like
// "won" or "lost" is of that kind), else the row is rejected.
package transfer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/importjob"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/read"
	"github.com/rapportcrm/rapport/internal/clip"
)

// Defaults of Options.
const (
	DefaultBatchSize = 500
	// MaxBatchSize bounds Options.BatchSize.
	MaxBatchSize = 5000
	// MaxFileSize bounds the file an import holds.
	MaxFileSize = 256 << 20
)

// Options configure an import; they are stored with its job.
type Options struct {
	// Type is the record type imported (see mapping.KindNames).
	Type string `json:"type"`
	// FileName is the file's name, which helps tell its format.
	FileName string `json:"fileName,omitempty"`
	// Format, Encoding, Delimiter and Sheet say how to read the file;
	// each is detected when empty.
	Format    read.Format `json:"format,omitempty"`
	Encoding  string      `json:"encoding,omitempty"`
	Delimiter rune        `json:"delimiter,omitempty"`
	Sheet     string      `json:"sheet,omitempty"`
	// Mapping overrides the mapping told from the header.
	Mapping *mapping.File `json:"mapping,omitempty"`
	// CreateFields makes custom fields of unmapped columns.
	CreateFields bool `json:"createFields,omitempty"`
	// Source is the external_source when neither the mapping nor a
	// preset names one.
	Source string `json:"source,omitempty"`
	// CreateMissing creates the pipelines and stages deals name that the
	// workspace lacks; without it such deals are rejected.
	CreateMissing bool `json:"createMissing,omitempty"`
	// Merge folds a row that duplicates an existing record (by email,
	// domain, phone, SKU or number) into that record instead of
	// reporting it: the row's non-empty cells win, see the package
	// documentation.
	Merge bool `json:"merge,omitempty"`
	// AllOrNothing rejects the whole file when any row fails.
	AllOrNothing bool `json:"allOrNothing,omitempty"`
	// FireAutomations lets imported records fire automations.
	FireAutomations bool `json:"fireAutomations,omitempty"`
	// BatchSize is how many rows one transaction writes.
	BatchSize int `json:"batchSize,omitempty"`
	// TimeZone names the zone of times the file writes without one
	// (UTC when empty).
	TimeZone string `json:"timeZone,omitempty"`
}

// Reject is a row the import did not take.
type Reject struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Result is what an import did.
type Result struct {
	Job            pulid.ID       `json:"job"`
	Rows           int            `json:"rows"`
	Created        int            `json:"created"`
	Updated        int            `json:"updated"`
	Unchanged      int            `json:"unchanged"`
	Failed         int            `json:"failed"`
	FailedByReason map[string]int `json:"failedByReason"`
	// Rejects are the rows not taken, in file order.
	Rejects []Reject `json:"rejects"`
	// Mapping is how the file's columns were mapped.
	Mapping mapping.Mapping `json:"mapping"`
}

// Progress receives an import's progress after each batch.
type Progress func(done int)

// Start stores file as an import job of o in ctx's workspace, or returns
// the unfinished job of the same file and options, which Run resumes.
func Start(ctx context.Context, client *ent.Client, file []byte, o Options) (*ent.ImportJob, error) {
	hash, opts, err := checkStart(file, o)
	if err != nil {
		return nil, err
	}
	prior, err := client.ImportJob.Query().
		Where(importjob.FileSha256(hash), importjob.Type(o.Type), importjob.StatusIn(importjob.StatusQueued, importjob.StatusRunning)).
		Select(importjob.FieldID, importjob.FieldOptions).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range prior {
		if sameOptions(p.Options, opts) {
			return client.ImportJob.Get(ctx, p.ID)
		}
	}
	return create(ctx, client, file, o, hash, opts)
}

// checkStart checks an import's file and options, and returns the file's
// SHA-256 and the options as stored.
func checkStart(file []byte, o Options) (hash string, opts map[string]any, err error) {
	if len(file) > MaxFileSize {
		return "", nil, fmt.Errorf("the file is larger than %d MiB", MaxFileSize>>20)
	}
	if _, ok := mapping.Kinds[o.Type]; !ok {
		return "", nil, fmt.Errorf("unknown record type %q: want one of %s", o.Type, strings.Join(mapping.KindNames(), ", "))
	}
	if o.BatchSize < 0 || o.BatchSize > MaxBatchSize {
		return "", nil, fmt.Errorf("a batch is 1 to %d rows, not %d", MaxBatchSize, o.BatchSize)
	}
	sum := sha256.Sum256(file)
	opts, err = optionsMap(o)
	return hex.EncodeToString(sum[:]), opts, err
}

// newJob stores a new job of file and o.
func newJob(ctx context.Context, client *ent.Client, file []byte, o Options) (*ent.ImportJob, error) {
	hash, opts, err := checkStart(file, o)
	if err != nil {
		return nil, err
	}
	return create(ctx, client, file, o, hash, opts)
}

func create(ctx context.Context, client *ent.Client, file []byte, o Options, hash string, opts map[string]any) (*ent.ImportJob, error) {
	return client.ImportJob.Create().
		SetType(o.Type).SetFileName(clip.String(o.FileName, 255, "")).SetFileSha256(hash).
		SetFileSize(int64(len(file))).SetFile(file).SetOptions(opts).
		SetActor(tenancy.Actor(ctx)).Save(ctx)
}

func optionsMap(o Options) (map[string]any, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func sameOptions(a, b map[string]any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// errAllOrNothing rolls back a run that rejected a row under
// AllOrNothing.
var errAllOrNothing = errors.New("a row was rejected and the import is all or nothing")

// table opens a job's file.
func table(job *ent.ImportJob, o Options) (read.Table, error) {
	return read.Open(bytes.NewReader(job.File), int64(len(job.File)), o.FileName, read.Options{
		Format: o.Format, Encoding: o.Encoding, Delimiter: o.Delimiter, Sheet: o.Sheet,
	})
}

// location is the zone of o's times.
func location(o Options) (*time.Location, error) {
	if o.TimeZone == "" {
		return time.UTC, nil
	}
	return time.LoadLocation(o.TimeZone)
}

// rowsOf reads the next up to n rows of t: good rows, and rejects for
// the rows that could not be read.
func rowsOf(t read.Table, n int) (rows []read.Row, rejects []Reject, eof bool, err error) {
	for len(rows)+len(rejects) < n {
		r, err := t.Next()
		if err == io.EOF {
			return rows, rejects, true, nil
		}
		var re *read.Error
		if errors.As(err, &re) {
			rejects = append(rejects, Reject{Row: re.Row, Column: re.Column, Reason: re.Reason, Message: re.Message})
			continue
		}
		if err != nil {
			return nil, nil, false, err
		}
		rows = append(rows, r)
	}
	return rows, rejects, false, nil
}
