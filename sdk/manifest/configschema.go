package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// compiled caches compiled config schemas by their bytes' hash.
var compiled sync.Map // [32]byte → *jsonschema.Schema

// CompileConfigSchema compiles a config_schema (JSON Schema; draft 2020-12
// unless it names another with $schema). It refers to nothing outside
// itself: the host loads no schema from a file or the network.
func CompileConfigSchema(schema json.RawMessage) (*jsonschema.Schema, error) {
	key := sha256.Sum256(schema)
	if s, ok := compiled.Load(key); ok {
		return s.(*jsonschema.Schema), nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	if err := c.AddResource("config_schema.json", doc); err != nil {
		return nil, err
	}
	s, err := c.Compile("config_schema.json")
	if err != nil {
		return nil, err
	}
	compiled.Store(key, s)
	return s, nil
}

// noLoader refuses every external reference.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("config_schema: the schema refers to %s; a config schema must be self-contained", url)
}

// ConfigError is a configuration that its schema refuses: Field is the
// offending value's path, dot-separated ("" for the whole), Reason says
// why.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Field == "" {
		return "config: " + e.Reason
	}
	return "config." + e.Field + ": " + e.Reason
}

// ValidateConfig checks a configuration (JSON) against a config schema and
// returns the first problem as a *ConfigError.
func ValidateConfig(schema json.RawMessage, config []byte) error {
	if len(schema) == 0 {
		return nil
	}
	s, err := CompileConfigSchema(schema)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return &ConfigError{Reason: "not JSON: " + err.Error()}
	}
	err = s.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &ConfigError{Reason: err.Error()}
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return &ConfigError{Field: strings.Join(ve.InstanceLocation, "."), Reason: ve.ErrorKind.LocalizedString(message.NewPrinter(language.English))}
}
