package manifest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaJSON is plugin.schema.json, the JSON Schema of a manifest.
//
//go:embed plugin.schema.json
var schemaJSON []byte

// SchemaID is the $id of the manifest's JSON Schema.
const SchemaID = "https://raw.githubusercontent.com/rapportcrm/rapport/main/sdk/manifest/plugin.schema.json"

// JSONSchema returns the JSON Schema (draft 2020-12) of plugin.json, as
// published in sdk/manifest/plugin.schema.json, for editors and other
// tools. The caller gets its own copy.
func JSONSchema() []byte { return bytes.Clone(schemaJSON) }

var (
	schemaOnce     sync.Once
	schemaCompiled *jsonschema.Schema
	schemaRules    map[string]string // allOf index → the rule's description
	schemaErr      error
)

// manifestSchema compiles the embedded schema once.
func manifestSchema() (*jsonschema.Schema, map[string]string, error) {
	schemaOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
		if err != nil {
			schemaErr = fmt.Errorf("plugin.schema.json: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.UseLoader(noLoader{})
		if err := c.AddResource(SchemaID, doc); err != nil {
			schemaErr = fmt.Errorf("plugin.schema.json: %w", err)
			return
		}
		schemaCompiled, schemaErr = c.Compile(SchemaID)
		var rules struct {
			AllOf []struct {
				Description string `json:"description"`
			} `json:"allOf"`
		}
		if err := json.Unmarshal(schemaJSON, &rules); err != nil && schemaErr == nil {
			schemaErr = err
		}
		schemaRules = map[string]string{}
		for i, r := range rules.AllOf {
			schemaRules[strconv.Itoa(i)] = strings.TrimSuffix(r.Description, ".")
		}
	})
	return schemaCompiled, schemaRules, schemaErr
}

// SchemaProblem is one place where a manifest breaks the JSON Schema.
type SchemaProblem struct {
	// Pointer is the offending value's JSON pointer (RFC 6901), e.g.
	// "/limits/timeout_ms"; "" is the whole manifest. For a missing or an
	// unknown field it is the field's own pointer.
	Pointer string
	// Message says what is wrong.
	Message string
}

func (p SchemaProblem) String() string {
	where := p.Pointer
	if where == "" {
		where = "(manifest)"
	}
	return where + ": " + p.Message
}

// SchemaError lists every problem the JSON Schema finds in a manifest.
type SchemaError struct {
	// Problems are sorted by pointer.
	Problems []SchemaProblem
}

func (e *SchemaError) Error() string {
	s := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		s[i] = p.String()
	}
	return "plugin.json does not match plugin.schema.json: " + strings.Join(s, "; ")
}

// ValidateSchema checks the raw bytes of a plugin.json against the JSON
// Schema and returns a *SchemaError naming every problem's JSON pointer,
// or an error when b is not one JSON value. It complements Parse, which
// decodes and checks with Validate: the schema cannot check that a
// config_schema compiles or is self-contained, and Validate refuses
// some values the schema allows; see sdk/MANIFEST.md.
func ValidateSchema(b []byte) error {
	s, rules, err := manifestSchema()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return &SchemaError{Problems: []SchemaProblem{{Message: "not JSON: " + err.Error()}}}
	}
	err = s.Validate(doc)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err
	}
	var problems []SchemaProblem
	collectProblems(ve, rules, &problems)
	slices.SortStableFunc(problems, func(a, b SchemaProblem) int { return strings.Compare(a.Pointer, b.Pointer) })
	problems = slices.Compact(problems)
	return &SchemaError{Problems: problems}
}

var english = message.NewPrinter(language.English)

// collectProblems appends the leaves of ve's tree of causes.
func collectProblems(ve *jsonschema.ValidationError, rules map[string]string, out *[]SchemaProblem) {
	_, isContains := ve.ErrorKind.(*kind.Contains)
	_, isNames := ve.ErrorKind.(*kind.PropertyNames)
	if len(ve.Causes) > 0 && !isContains && !isNames {
		for _, c := range ve.Causes {
			collectProblems(c, rules, out)
		}
		return
	}
	at := pointer(ve.InstanceLocation)
	// A rule of the top-level allOf says in its description what it asks.
	rule := ""
	if _, frag, ok := strings.Cut(ve.SchemaURL, "#/allOf/"); ok {
		n, _, _ := strings.Cut(frag, "/")
		if d := rules[n]; d != "" {
			rule = " (" + d + ")"
		}
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, name := range k.Missing {
			*out = append(*out, SchemaProblem{Pointer: at + "/" + escapePointer(name), Message: "missing" + rule})
		}
		return
	case *kind.AdditionalProperties:
		for _, name := range k.Properties {
			*out = append(*out, SchemaProblem{Pointer: at + "/" + escapePointer(name), Message: "unknown field" + rule})
		}
		return
	case *kind.PropertyNames:
		// The library shares this error's InstanceLocation with later
		// errors; the object is the one whose schema holds propertyNames,
		// reached in plugin.schema.json through "properties" only.
		_, frag, _ := strings.Cut(ve.SchemaURL, "#")
		var loc []string
		toks := strings.Split(strings.TrimPrefix(frag, "/"), "/")
		for i := 0; i+1 < len(toks); i++ {
			if toks[i] == "properties" {
				loc = append(loc, toks[i+1])
				i++
			}
		}
		msg := "bad key"
		if len(ve.Causes) > 0 {
			msg += ": " + ve.Causes[0].ErrorKind.LocalizedString(english)
		}
		*out = append(*out, SchemaProblem{Pointer: pointer(loc) + "/" + escapePointer(k.Property), Message: msg + rule})
		return
	case *kind.Contains:
		msg := "no item matches"
		if len(ve.Causes) > 0 {
			msg += ": " + ve.Causes[0].ErrorKind.LocalizedString(english)
		}
		*out = append(*out, SchemaProblem{Pointer: at, Message: msg + rule})
		return
	case *kind.FalseSchema:
		*out = append(*out, SchemaProblem{Pointer: at, Message: "not allowed here" + rule})
		return
	}
	*out = append(*out, SchemaProblem{Pointer: at, Message: ve.ErrorKind.LocalizedString(english) + rule})
}

// pointer is the JSON pointer of a location's tokens.
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}
