package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/importreject"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/core/transfer"
	transferjob "github.com/rapportcrm/rapport/core/transfer/job"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
)

// importFlags are the flags of rapport import.
type importFlags struct {
	slug, mappingFile, rejects, output, archive string
	in                                          transferjob.Input
	dryRun                                      bool
}

// plainProgressEvery is how often a progress line is printed when
// standard error is not a terminal.
const plainProgressEvery = 5 * time.Second

func newImportCmd(g *globals) *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import TYPE FILE --workspace SLUG [flags]",
		Short: "Import records from a CSV, JSON Lines or XLSX file (another CRM's export or a spreadsheet)",
		Long: `Imports the records of FILE into the workspace. TYPE is one of: ` + strings.Join(mapping.KindNames(), ", ") + `.

Columns are mapped from the header (the exports of Pipedrive, HubSpot and
Salesforce are recognised); --mapping FILE gives the mapping instead, as
JSON: {"source": "crm", "dateOrder": "dmy", "columns": {"Header": "target"}}.
Records keep their source's IDs, so importing the same file again updates
what the first import created. Rows are written in batches (--batch-size),
each committed with the import's progress: an import that was interrupted
(Ctrl-C, a crash, kill -9) resumes where it stopped when the same command
is run again. Imported records fire no automation unless
--fire-automations.

Rows that cannot be imported are rejected, not dropped: the reject file
(--rejects, by default FILE.rejects.csv beside FILE, written only when
there are rejects) is a CSV of row (the row's number in FILE, the header
being row 1), column, reason (a short code such as invalid_email or
duplicate) and message. --dry-run reads and checks the whole file as the
import would, writes the reject file and nothing else.

The command ends with a summary: created, updated, unchanged, failed by
reason, the reject file and the job's ID (-o json for a JSON object). The
exit status is 0 when the import ran to its end, even if some rows were
rejected; it is not 0 when the import failed outright (the file could
not be read or mapped, the database failed, the command was interrupted)
or, with --all-or-nothing, when any row was rejected and so nothing was
imported.

--workspace-archive FILE restores a workspace archive into the empty
workspace instead (TYPE and FILE are then not given).`,
		Example: `  rapport import contacts persons.csv --workspace acme
  rapport import deals deals.xlsx -w acme --create-missing --dry-run
  rapport import organizations companies.csv -w acme --mapping mapping.json -o json
  rapport import --workspace-archive acme.tar.gz -w acme`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.archive != "" {
				if len(args) != 0 {
					return errcode.Input("workspace-archive", "--workspace-archive takes no TYPE or FILE")
				}
				return nil
			}
			if len(args) != 2 {
				return errcode.Input("args", "want TYPE and FILE, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.archive != "" {
				return restoreArchive(cmd, g, f.slug, f.archive)
			}
			return runImport(cmd, g, &f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.slug, "workspace", "w", "", "workspace slug (required)")
	fl.StringVar(&f.mappingFile, "mapping", "", "JSON mapping file: source, dateOrder and columns (header → target)")
	fl.BoolVar(&f.in.CreateFields, "create-fields", false, "make custom fields of the columns nothing else maps to")
	fl.BoolVar(&f.in.CreateMissing, "create-missing", false, "make the pipelines and stages deals name that the workspace lacks")
	fl.BoolVar(&f.in.Merge, "merge", false, "fold rows that duplicate an existing record (by email, domain, phone, SKU, number) into it")
	fl.BoolVar(&f.in.AllOrNothing, "all-or-nothing", false, "import nothing when any row is rejected")
	fl.BoolVar(&f.in.FireAutomations, "fire-automations", false, "let the imported records fire automations")
	fl.BoolVar(&f.dryRun, "dry-run", false, "check the whole file as the import would and write nothing (but the reject file)")
	fl.StringVar(&f.rejects, "rejects", "", "write rejected rows to this CSV file (default: FILE.rejects.csv, when there are rejects)")
	fl.StringVar(&f.in.Source, "source", "", "external_source of the records when neither the mapping nor a known export names one")
	fl.StringVar(&f.in.Format, "format", "", "csv, jsonl or xlsx (default: told from the file)")
	fl.StringVar(&f.in.Encoding, "encoding", "", "a CSV file's encoding: utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fl.StringVar(&f.in.Delimiter, "delimiter", "", `a CSV file's delimiter, one character or "tab" (default: detected)`)
	fl.StringVar(&f.in.Sheet, "sheet", "", "the XLSX sheet to read (default: the first)")
	fl.StringVar(&f.in.TimeZone, "time-zone", "", "IANA time zone of times written without one (default: UTC)")
	fl.IntVar(&f.in.BatchSize, "batch-size", 0, fmt.Sprintf("rows written per transaction, 1 to %d (default %d)", transfer.MaxBatchSize, transfer.DefaultBatchSize))
	fl.StringVarP(&f.output, "output", "o", "table", "summary format: table or json")
	fl.StringVar(&f.archive, "workspace-archive", "", "restore this workspace archive into the empty workspace instead")
	_ = cmd.MarkFlagRequired("workspace")
	return cmd
}

// importSummary is what rapport import prints at its end.
type importSummary struct {
	Job            *string        `json:"job"`
	Type           string         `json:"type"`
	File           string         `json:"file"`
	DryRun         bool           `json:"dry_run"`
	Status         string         `json:"status"`
	Rows           int            `json:"rows"`
	Created        int            `json:"created"`
	Updated        int            `json:"updated"`
	Unchanged      int            `json:"unchanged"`
	Failed         int            `json:"failed"`
	FailedByReason map[string]int `json:"failed_by_reason"`
	RejectsFile    *string        `json:"rejects_file"`
	Seconds        float64        `json:"seconds"`
	// RowsPerSecond is the rate of this run (of the rows it read, not
	// those of the runs it resumed).
	RowsPerSecond float64 `json:"rows_per_second"`
	Error         *string `json:"error"`
	// from is the row this run resumed after.
	from int
}

func runImport(cmd *cobra.Command, g *globals, f *importFlags, typ, path string) error {
	if f.output != "table" && f.output != "json" {
		return errcode.Input("output", "unknown output format %q: use table or json", f.output)
	}
	f.in.Type, f.in.FileName = typ, filepath.Base(path)
	if f.mappingFile != "" {
		b, err := readSmall(f.mappingFile, 1<<20)
		if err != nil {
			return errcode.Input("mapping", "%v", err)
		}
		f.in.Mapping = b
	}
	o, err := f.in.Options()
	if err != nil {
		return err
	}
	data, err := readSmall(path, transfer.MaxFileSize)
	if err != nil {
		return errcode.Input("file", "%v", err)
	}
	ctx := cmd.Context()
	st, err := g.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := access.WorkspaceBySlug(ctx, st.Client, f.slug)
	if err != nil {
		return err
	}
	ctx = tenancy.NewContext(ctx, &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
	stderr := cmd.ErrOrStderr()
	sum := importSummary{Type: typ, File: path, DryRun: f.dryRun, FailedByReason: map[string]int{}}
	start := time.Now()
	var (
		res    *transfer.Result
		runErr error
	)
	if f.dryRun {
		p := newImportProgress(stderr, 0, "checking")
		res, runErr = transfer.Check(ctx, st.Client, data, o, p.update)
		p.finish()
		sum.Status = "checked"
	} else {
		job, err := transfer.Start(ctx, st.Client, data, o)
		if err != nil {
			return err
		}
		id := string(job.ID)
		sum.Job = &id
		if job.NextRow > 0 {
			fmt.Fprintf(stderr, "resuming import %s after row %d\n", job.ID, job.NextRow+1)
		}
		sum.from = job.NextRow
		p := newImportProgress(stderr, job.NextRow, "importing")
		res, runErr = transfer.Run(ctx, st.Client, job.ID, p.update)
		p.finish()
		if runErr == nil && res != nil && res.Created > 0 {
			// A bulk load: refresh the planner's statistics, as the
			// demo seeding does.
			if err := st.Optimize(ctx); err != nil {
				fmt.Fprintf(stderr, "warning: %v\n", err)
			}
		}
		// The job holds the counts of every run of it, this one's and
		// those it resumed.
		if j, err := st.Client.ImportJob.Get(context.WithoutCancel(ctx), job.ID); err == nil {
			sum.Status = string(j.Status)
			sum.Rows, sum.Created, sum.Updated, sum.Unchanged, sum.Failed = j.NextRow, j.Created, j.Updated, j.Unchanged, j.Failed
			for k, v := range j.FailedByReason {
				sum.FailedByReason[k] = v
			}
			res = nil
		}
		if ctx.Err() != nil {
			sum.Status = "interrupted"
		}
	}
	if res != nil {
		sum.Rows, sum.Created, sum.Updated, sum.Unchanged, sum.Failed = res.Rows, res.Created, res.Updated, res.Unchanged, res.Failed
		for k, v := range res.FailedByReason {
			sum.FailedByReason[k] = v
		}
	}
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.RowsPerSecond = math.Round(float64(sum.Rows-sum.from) / sum.Seconds)
	}
	if sum.Failed > 0 {
		out := f.rejects
		if out == "" {
			out = path + ".rejects.csv"
		}
		if err := writeRejects(context.WithoutCancel(ctx), st.Client, sum.Job, res, out); err != nil {
			return fmt.Errorf("writing the reject file: %w", err)
		}
		sum.RejectsFile = &out
	}
	if runErr != nil {
		msg := runErr.Error()
		sum.Error = &msg
	}
	if err := sum.write(cmd.OutOrStdout(), f.output); err != nil {
		return err
	}
	switch {
	case runErr != nil && ctx.Err() != nil:
		return fmt.Errorf("interrupted: run the same command again to resume import %s", deref(sum.Job))
	case runErr != nil:
		return runErr
	case f.dryRun && o.AllOrNothing && sum.Failed > 0:
		return fmt.Errorf("%d rows would be rejected and the import is all or nothing: nothing would be imported", sum.Failed)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// readSmall reads the file at path, refusing one larger than max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, max>>20)
	}
	return b, nil
}

// writeRejects writes the rejected rows as CSV to path: the job's, as
// stored (every run of it), or a dry run's.
func writeRejects(ctx context.Context, c *ent.Client, job *string, res *transfer.Result, path string) error {
	var rows []transfer.Reject
	if job != nil {
		all, err := c.ImportReject.Query().Where(importreject.JobID(pulid.ID(*job))).
			Order(importreject.ByRow(), importreject.ByID()).All(ctx)
		if err != nil {
			return err
		}
		for _, r := range all {
			rows = append(rows, transfer.Reject{Row: r.Row, Column: r.Column, Reason: r.Reason, Message: r.Message})
		}
	} else if res != nil {
		rows = res.Rejects
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".rapport-rejects-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	_ = w.Write([]string{"row", "column", "reason", "message"})
	for _, r := range rows {
		_ = w.Write([]string{fmt.Sprint(r.Row), csvSafe(r.Column), csvSafe(r.Reason), csvSafe(r.Message)})
	}
	w.Flush()
	if err := errors.Join(w.Error(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// write prints the summary as format: table (one line per figure) or
// json (one object, numbers as numbers).
func (s importSummary) write(w io.Writer, format string) error {
	if format == "json" {
		return writeJSON(w, s)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	if s.Job != nil {
		line("job", *s.Job)
	}
	line("status", s.Status)
	line("rows", s.Rows)
	line("created", s.Created)
	line("updated", s.Updated)
	line("unchanged", s.Unchanged)
	line("failed", s.Failed)
	reasons := make([]string, 0, len(s.FailedByReason))
	for r := range s.FailedByReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		line("  "+r, s.FailedByReason[r])
	}
	if s.RejectsFile != nil {
		line("rejects", *s.RejectsFile)
	}
	line("rows/s", s.RowsPerSecond)
	if s.Error != nil {
		line("error", *s.Error)
	}
	return tw.Flush()
}

// importProgress shows an import's progress on standard error: a bar
// with rows per second on a terminal, else a line every few seconds.
type importProgress struct {
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar
	from  int
	last  int
	start time.Time
	said  time.Time
	verb  string
}

func newImportProgress(w io.Writer, from int, verb string) *importProgress {
	p := &importProgress{w: w, from: from, last: from, start: time.Now(), said: time.Now(), verb: verb}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(verb),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

// update is the import's transfer.Progress: done rows in all.
func (p *importProgress) update(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Add(done - p.last)
	} else if time.Since(p.said) >= plainProgressEvery {
		p.said = time.Now()
		rate := float64(done-p.from) / time.Since(p.start).Seconds()
		fmt.Fprintf(p.w, "%s: %d rows (%.0f rows/s)\n", p.verb, done, rate)
	}
	p.last = done
}

func (p *importProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
