package inputs

import (
	"fmt"
	"sort"
	"strings"
)

// Source says where an available input comes from.
type Source string

// The sources of inputs.
const (
	FromBuiltin   Source = "builtin"
	FromField     Source = "field"
	FromRelation  Source = "relation"
	FromCustom    Source = "custom"
	FromTag       Source = "tag"
	FromSegment   Source = "segment"
	FromAggregate Source = "aggregate"
)

// Available is one input a subject type offers, written as a manifest
// would declare it.
type Available struct {
	// Input is the declaration, e.g. "organization.industry".
	Input string
	// Kind is how its values travel.
	Kind Kind
	// Source is where it comes from.
	Source Source
	// Description says what it holds.
	Description string
}

// Catalog names what a workspace adds to the catalog for listing: its
// custom fields (as in Workspace), tag names and segment keys.
type Catalog struct {
	Workspace
	Tags     []string
	Segments []string
}

// List returns every input a subject type offers: its built-ins, its
// fields, the fields of records it reaches through to-one relations (up to
// MaxHops), its custom fields and those of related records (when cat gives
// them), tags and segments, and the aggregate forms of each of its lists.
// Every entry without a placeholder (upper case, or a part in brackets)
// parses as written. cat may be nil.
func List(subject string, cat *Catalog) ([]Available, error) {
	e, ok := catalog[subject]
	if !ok {
		return nil, fmt.Errorf("unknown subject type %q (want one of %s)", subject, strings.Join(Subjects, ", "))
	}
	if cat == nil {
		cat = &Catalog{}
	}
	var out []Available
	for _, name := range sortedKeys(Builtins[subject]) {
		out = append(out, Available{Input: name, Kind: Builtins[subject][name], Source: FromBuiltin, Description: builtinDoc(name)})
	}
	var walk func(prefix []string, entity string)
	walk = func(prefix []string, entity string) {
		e := catalog[entity]
		path := strings.Join(prefix, ".")
		if path != "" {
			path += "."
		}
		src := FromField
		if len(prefix) > 0 {
			src = FromRelation
		}
		for _, name := range sortedKeys(e.Fields) {
			if _, builtin := Builtins[subject][name]; builtin && len(prefix) == 0 {
				continue // the built-in of that name is what a bare name reads
			}
			f := e.Fields[name]
			out = append(out, Available{Input: path + name, Kind: f.Kind, Source: src, Description: fieldDoc(entity, name, f)})
		}
		for _, key := range sortedKeys(cat.Custom[entity]) {
			typ := cat.Custom[entity][key]
			k := CustomKinds[typ]
			out = append(out, Available{Input: path + "custom." + key + ":" + string(k), Kind: k, Source: FromCustom,
				Description: fmt.Sprintf("custom field %q of %s (%s)", key, entity, typ)})
		}
		if len(prefix) >= MaxHops {
			return
		}
		for _, rel := range sortedKeys(e.One) {
			walk(append(append([]string{}, prefix...), rel), e.One[rel].Target)
		}
	}
	walk(nil, subject)
	if e.Tags {
		out = append(out, Available{Input: "tag:NAME", Kind: Flag, Source: FromTag, Description: "1 when the subject has the tag NAME (names compare case-insensitively; quote one with spaces or capitals)"})
		for _, t := range cat.Tags {
			in := "tag:" + t
			if !identLike(t) {
				in = "tag:" + quote(t)
			}
			out = append(out, Available{Input: in, Kind: Flag, Source: FromTag, Description: fmt.Sprintf("1 when the subject has the tag %q", t)})
		}
	}
	out = append(out,
		Available{Input: "segment", Kind: Category, Source: FromSegment, Description: "the key of the subject's first open segment, in key order"},
		Available{Input: "segment:KEY", Kind: Flag, Source: FromSegment, Description: "1 when the subject is in the segment KEY now"})
	for _, k := range cat.Segments {
		out = append(out, Available{Input: "segment:" + k, Kind: Flag, Source: FromSegment, Description: fmt.Sprintf("1 when the subject is in segment %q now", k)})
	}
	for _, rel := range sortedKeys(e.Many) {
		r := e.Many[rel]
		t := catalog[r.Target]
		tail := " [where FIELD = VALUE [and …]] [within 30d])"
		out = append(out, Available{Input: "count(" + rel + tail, Kind: Number, Source: FromAggregate,
			Description: fmt.Sprintf("number of its %s", rel)})
		for _, name := range sortedKeys(t.Fields) {
			f := t.Fields[name]
			switch f.Kind {
			case Number:
				for _, fn := range []string{"sum", "mean", "min", "max"} {
					out = append(out, Available{Input: fn + "(" + rel + "." + name + tail, Kind: Number, Source: FromAggregate,
						Description: fmt.Sprintf("%s of its %s' %s%s", fn, rel, name, moneyNote(f))})
				}
			case Time:
				for _, fn := range []string{"min", "max"} {
					out = append(out, Available{Input: fn + "(" + rel + "." + name + tail, Kind: Time, Source: FromAggregate,
						Description: fmt.Sprintf("the %s %s of its %s", map[string]string{"min": "earliest", "max": "latest"}[fn], name, rel)})
				}
			}
		}
		for _, fn := range []string{"days_since_first", "days_since_last"} {
			out = append(out, Available{Input: fn + "(" + rel + tail, Kind: Number, Source: FromAggregate,
				Description: fmt.Sprintf("days since its %s %s (by %s; rows dated after now are left out)", map[string]string{"days_since_first": "first", "days_since_last": "latest"}[fn], singular(rel), t.Time)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return sourceOrder(out[i].Source) < sourceOrder(out[j].Source) })
	return out, nil
}

func sourceOrder(s Source) int {
	return strings.Index("builtin field relation custom tag segment aggregate", string(s))
}

func moneyNote(f Field) string {
	if f.Money {
		return " (in currency units)"
	}
	return ""
}

func builtinDoc(name string) string {
	if d, ok := builtinDocs[name]; ok {
		return d
	}
	switch {
	case strings.HasPrefix(name, "has_"):
		return "1 when its " + strings.TrimPrefix(name, "has_") + " is set"
	case strings.HasSuffix(name, "_count"):
		return "number of its " + strings.ReplaceAll(strings.TrimSuffix(name, "_count"), "_", " ") + " activities"
	}
	return "its " + strings.ReplaceAll(name, "_", " ")
}

func fieldDoc(entity, name string, f Field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s's %s", entity, strings.ReplaceAll(name, "_", " "))
	switch {
	case f.Computed != "":
		fmt.Fprintf(&b, " (%s)", f.Computed)
	case len(f.Enum) > 0:
		fmt.Fprintf(&b, ": %s", strings.Join(f.Enum, ", "))
	}
	if f.Money {
		b.WriteString(" (in currency units)")
	}
	if f.Kind == Time {
		b.WriteString(" (Unix seconds)")
	}
	return b.String()
}

// singular names one row of a to-many relation: "activities" → "activity",
// "orders" → "order".
func singular(rel string) string {
	if r, ok := strings.CutSuffix(rel, "ies"); ok {
		return r + "y"
	}
	return strings.TrimSuffix(rel, "s")
}
