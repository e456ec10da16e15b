package pluginkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rapportcrm/rapport/sdk/manifest"
)

// DefaultConfig returns the binding configuration a host sends for a
// binding that sets nothing: the defaults of m's config schema, as the
// package documentation describes, or "{}" when m has no schema. It fails
// when the schema is not a JSON object, or requires a property that has no
// default (the error names them).
func DefaultConfig(m *manifest.Manifest) ([]byte, error) {
	if len(bytes.TrimSpace(m.ConfigSchema)) == 0 {
		return []byte("{}"), nil
	}
	var schema map[string]any
	if err := json.Unmarshal(m.ConfigSchema, &schema); err != nil {
		return nil, fmt.Errorf("config_schema: %w", err)
	}
	v, ok := defaultOf(schema)
	if !ok {
		v = map[string]any{}
	}
	if lacking := requiredWithoutDefault(schema, v, ""); len(lacking) > 0 {
		sort.Strings(lacking)
		return nil, fmt.Errorf("config_schema requires %s without a default", strings.Join(lacking, ", "))
	}
	// encoding/json sorts object keys, so the result is stable.
	return json.Marshal(v)
}

// defaultOf returns a schema's default value: its "default", or for an
// object schema the object of its properties' defaults.
func defaultOf(schema map[string]any) (any, bool) {
	if d, ok := schema["default"]; ok {
		return d, true
	}
	props, _ := schema["properties"].(map[string]any)
	if schema["type"] != "object" && props == nil {
		return nil, false
	}
	obj := map[string]any{}
	for name, p := range props {
		ps, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if d, ok := defaultOf(ps); ok {
			if m, isObj := d.(map[string]any); isObj && len(m) == 0 && ps["default"] == nil {
				continue // an object with nothing set: leave it out
			}
			obj[name] = d
		}
	}
	return obj, true
}

// requiredWithoutDefault lists the required properties of schema that v,
// its default, does not set.
func requiredWithoutDefault(schema map[string]any, v any, path string) []string {
	obj, _ := v.(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	var out []string
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			name, _ := r.(string)
			if _, set := obj[name]; !set {
				out = append(out, fmt.Sprintf("%q", path+name))
			}
		}
	}
	for name, p := range props {
		ps, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if sub, set := obj[name]; set {
			out = append(out, requiredWithoutDefault(ps, sub, path+name+".")...)
		}
	}
	return out
}
