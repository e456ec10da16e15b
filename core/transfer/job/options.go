package job

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rapportcrm/rapport/core/crm"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/transfer"
	"github.com/rapportcrm/rapport/core/transfer/mapping"
	"github.com/rapportcrm/rapport/core/transfer/read"
)

// Input is an import's options as the command line and the API take
// them: text, checked by Options.
type Input struct {
	// Type is the record type (see mapping.KindNames).
	Type string
	// FileName is the file's name, which helps tell its format.
	FileName string
	// Format is csv, jsonl or xlsx; told from the file when empty.
	Format string
	// Encoding is a CSV file's encoding: utf-8, utf-16le, utf-16be or
	// windows-1252; detected when empty.
	Encoding string
	// Delimiter is a CSV file's one-character delimiter ("tab" or "\t"
	// for a tab); detected when empty.
	Delimiter string
	// Sheet is the XLSX sheet read; the first when empty.
	Sheet string
	// TimeZone names the zone of times written without one (an IANA
	// name such as Europe/Oslo); UTC when empty.
	TimeZone string
	// Source is the external_source of the imported records when
	// neither the mapping nor a preset names one.
	Source string
	// Mapping is a mapping file's JSON (see mapping.ParseFile); none
	// when empty.
	Mapping []byte
	// The switches of transfer.Options.
	CreateFields, CreateMissing, Merge, AllOrNothing, FireAutomations bool
	// BatchSize is how many rows one transaction writes (0: the
	// default).
	BatchSize int
}

// Options checks in and returns it as transfer.Options. Its errors are
// BAD_USER_INPUT naming the field at fault (type, format, encoding,
// delimiter, timeZone, source, mapping, batchSize).
func (in Input) Options() (transfer.Options, error) {
	o := transfer.Options{
		Type: in.Type, FileName: in.FileName, Encoding: in.Encoding, Sheet: in.Sheet, TimeZone: in.TimeZone, Source: in.Source,
		CreateFields: in.CreateFields, CreateMissing: in.CreateMissing, Merge: in.Merge,
		AllOrNothing: in.AllOrNothing, FireAutomations: in.FireAutomations, BatchSize: in.BatchSize,
	}
	if _, ok := mapping.Kinds[in.Type]; !ok {
		return o, errcode.Input("type", "unknown record type %q: want one of %s", in.Type, strings.Join(mapping.KindNames(), ", "))
	}
	switch f := read.Format(strings.ToLower(in.Format)); f {
	case "", read.CSV, read.JSONL, read.XLSX:
		o.Format = f
	default:
		return o, errcode.Input("format", "unknown format %q: want csv, jsonl or xlsx", in.Format)
	}
	switch strings.ToLower(strings.ReplaceAll(in.Encoding, "_", "-")) {
	case "", read.UTF8, "utf8", read.UTF16LE, read.UTF16BE, read.Windows1252, "cp1252":
	default:
		return o, errcode.Input("encoding", "unknown encoding %q: want utf-8, utf-16le, utf-16be or windows-1252", in.Encoding)
	}
	switch d := in.Delimiter; {
	case d == "":
	case d == `\t` || strings.EqualFold(d, "tab"):
		o.Delimiter = '\t'
	case utf8.RuneCountInString(d) == 1 && d != "\n" && d != "\r" && d != `"`:
		o.Delimiter, _ = utf8.DecodeRuneInString(d)
	default:
		return o, errcode.Input("delimiter", "a delimiter is one character (or tab), not %q", d)
	}
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil || strings.EqualFold(in.TimeZone, "local") {
			return o, errcode.Input("timeZone", "unknown time zone %q: want an IANA name such as Europe/Oslo", in.TimeZone)
		}
	}
	if in.Source != "" && !crm.ExternalSource.MatchString(in.Source) {
		return o, errcode.Input("source", "source %q: want a lower-case word (letters, digits, _ . -), at most 40 characters", in.Source)
	}
	if len(in.Mapping) > 0 {
		f, err := mapping.ParseFile(in.Mapping)
		if err != nil {
			return o, errcode.Input("mapping", "%v", err)
		}
		o.Mapping = &f
	}
	if in.BatchSize < 0 || in.BatchSize > transfer.MaxBatchSize {
		return o, errcode.Input("batchSize", "a batch is 1 to %d rows, not %d", transfer.MaxBatchSize, in.BatchSize)
	}
	return o, nil
}
