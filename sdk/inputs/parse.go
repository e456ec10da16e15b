package inputs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tString
	tPunct // . : = ( ) ,
	tOp    // != < <= > >=  (= is tPunct)
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "the end"
	case tString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// lex splits an input into tokens. Identifiers are lower-case letters,
// digits, underscores and dashes, starting with a letter or underscore;
// a number may carry a unit letter (30d), which makes it an identifier-
// like word the parser reads as a window.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c >= 'a' && c <= 'z' || c == '_':
			j := i + 1
			for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9' || s[j] == '_' || s[j] == '-') {
				j++
			}
			out = append(out, token{tIdent, s[i:j], i})
			i = j
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '.'):
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] >= 'a' && s[j] <= 'z' || s[j] == '_' || s[j] == '-') {
				j++
			}
			out = append(out, token{tNumber, s[i:j], i})
			i = j
		case c == '"' || c == '\'':
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				if s[j] < 0x20 || s[j] == 0x7f {
					return nil, fmt.Errorf("control character in string at %d", j)
				}
				b.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			out = append(out, token{tString, b.String(), i})
			i = j + 1
		case strings.IndexByte(".:=(),", c) >= 0:
			out = append(out, token{tPunct, string(c), i})
			i++
		case c == '!' || c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '=' {
				out = append(out, token{tOp, s[i : i+2], i})
				i += 2
			} else if c == '!' {
				return nil, fmt.Errorf("unexpected %q at %d (did you mean !=?)", c, i)
			} else {
				out = append(out, token{tOp, string(c), i})
				i++
			}
		case c >= 'A' && c <= 'Z':
			return nil, fmt.Errorf("upper case at %d: names are lower case (quote text values)", i)
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return append(out, token{kind: tEOF, pos: len(s)}), nil
}

type parser struct {
	toks    []token
	i       int
	subject string
	ws      *Workspace
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}
func (p *parser) is(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && t.text == text
}
func (p *parser) accept(kind tokKind, text string) bool {
	if p.is(kind, text) {
		p.i++
		return true
	}
	return false
}
func (p *parser) expect(kind tokKind, text string) error {
	if !p.accept(kind, text) {
		return fmt.Errorf("expected %q at %d, found %s", text, p.peek().pos, p.peek())
	}
	return nil
}
func (p *parser) ident(what string) (string, error) {
	t := p.next()
	if t.kind != tIdent {
		return "", fmt.Errorf("expected %s at %d, found %s", what, t.pos, t)
	}
	return t.text, nil
}

func (p *parser) input() (*Input, error) {
	var alias string
	if len(p.toks) > 2 && p.toks[0].kind == tIdent && p.toks[1].kind == tPunct && p.toks[1].text == "=" {
		alias = p.toks[0].text
		p.i = 2
		if len(alias) > 63 {
			return nil, fmt.Errorf("name %q is longer than 63 characters", alias)
		}
		if _, builtin := Builtins[p.subject][alias]; builtin {
			return nil, fmt.Errorf("name %q is a built-in input of %s; choose another", alias, p.subject)
		}
	}
	in, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, fmt.Errorf("unexpected %s at %d", t, t.pos)
	}
	if alias != "" {
		in.Name = alias
	} else {
		in.Name = in.defaultName()
	}
	return in, nil
}

func (p *parser) expr() (*Input, error) {
	t := p.peek()
	if t.kind != tIdent {
		return nil, fmt.Errorf("expected a field, tag:, segment or an aggregate at %d, found %s", t.pos, t)
	}
	next := p.toks[p.i+1]
	switch {
	case t.text == "tag" && next.kind == tPunct && next.text == ":":
		p.i += 2
		e := catalog[p.subject]
		if !e.Tags {
			return nil, fmt.Errorf("%s records have no tags", p.subject)
		}
		v := p.next()
		if v.kind != tIdent && v.kind != tString && v.kind != tNumber || v.text == "" || len(v.text) > 100 {
			return nil, fmt.Errorf("expected a tag name after tag: (quote one with spaces or capitals), found %s", v)
		}
		return &Input{Kind: Flag, Tag: v.text, Entity: p.subject}, nil
	case t.text == "segment" && (next.kind == tEOF || next.kind == tPunct && next.text == ":"):
		p.i++
		if p.accept(tPunct, ":") {
			k := p.next()
			if k.kind != tIdent && k.kind != tNumber || !segmentKey(k.text) {
				return nil, fmt.Errorf("expected a segment key ([a-z0-9_-], 1 to 64) after segment:, found %s", k)
			}
			return &Input{Kind: Flag, Segment: true, SegmentKey: k.text, Entity: p.subject}, nil
		}
		return &Input{Kind: Category, Segment: true, Entity: p.subject}, nil
	case next.kind == tPunct && next.text == "(":
		if !slices.Contains(Functions, t.text) {
			return nil, fmt.Errorf("unknown aggregate %q (want one of %s)%s", t.text, strings.Join(Functions, ", "), suggest(t.text, Functions))
		}
		return p.aggregate()
	}
	if next.kind == tEOF {
		if k, ok := Builtins[p.subject][t.text]; ok {
			p.i++
			return &Input{Kind: k, Builtin: true, Name: t.text, Entity: p.subject, Field: t.text}, nil
		}
	}
	return p.path()
}

func segmentKey(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// path reads relation.relation.field, relation.custom.key:kind and the like.
func (p *parser) path() (*Input, error) {
	entity := p.subject
	in := &Input{}
	for {
		name, err := p.ident("a field name")
		if err != nil {
			return nil, err
		}
		e := catalog[entity]
		if name == "custom" && p.is(tPunct, ".") {
			p.next()
			if !e.Custom {
				return nil, fmt.Errorf("%s records have no custom fields", entity)
			}
			key, err := p.ident("a custom field key")
			if err != nil {
				return nil, err
			}
			in.Entity, in.Field, in.Custom = entity, key, true
			if !p.accept(tPunct, ":") {
				return nil, fmt.Errorf("custom field %s needs its kind: custom.%s:number (or category, flag, time)", key, key)
			}
			kind, err := p.ident("a kind")
			if err != nil {
				return nil, err
			}
			switch Kind(kind) {
			case Number, Category, Flag, Time:
				in.Kind = Kind(kind)
			default:
				return nil, fmt.Errorf("unknown kind %q (want number, category, flag or time)", kind)
			}
			if p.ws != nil {
				typ, defined := p.ws.Custom[entity][key]
				if err := in.CheckCustom(defined, typ); err != nil {
					return nil, err
				}
			}
			return in, nil
		}
		if p.accept(tPunct, ".") {
			r, ok := e.One[name]
			if !ok {
				if _, many := e.Many[name]; many {
					return nil, fmt.Errorf("%s.%s is a list of records: aggregate it, e.g. count(%s)", entity, name, name)
				}
				if _, field := e.Fields[name]; field {
					return nil, fmt.Errorf("%s.%s is a field, not a relation", entity, name)
				}
				return nil, fmt.Errorf("no relation %q on %s%s", name, entity, suggest(name, sortedKeys(e.One)))
			}
			if len(in.Path) >= MaxHops {
				return nil, fmt.Errorf("%s goes deeper than %d relations", strings.Join(append(in.Path, name), "."), MaxHops)
			}
			in.Path = append(in.Path, name)
			entity = r.Target
			continue
		}
		f, ok := e.Fields[name]
		if !ok {
			if _, one := e.One[name]; one {
				return nil, fmt.Errorf("%s.%s is a relation: name one of its fields (%s.%s)", entity, name, name, firstField(catalog[e.One[name].Target]))
			}
			if _, many := e.Many[name]; many {
				return nil, fmt.Errorf("%s.%s is a list of records: aggregate it, e.g. count(%s)", entity, name, name)
			}
			cands := candidates(entity, len(in.Path) == 0)
			if p.ws != nil {
				for _, k := range sortedKeys(p.ws.Custom[entity]) {
					cands = append(cands, "custom."+k)
				}
			}
			return nil, fmt.Errorf("no field %q on %s%s", name, entity, suggest(name, cands))
		}
		in.Entity, in.Field, in.Kind = entity, name, f.Kind
		if p.accept(tPunct, ":") {
			kind, err := p.ident("a kind")
			if err != nil {
				return nil, err
			}
			if Kind(kind) != f.Kind {
				return nil, fmt.Errorf("%s.%s is a %s, not a %s", entity, name, f.Kind, kind)
			}
		}
		return in, nil
	}
}

func firstField(e Entity) string {
	for _, f := range []string{"name", "title", "key"} {
		if _, ok := e.Fields[f]; ok {
			return f
		}
	}
	return "id"
}

func (p *parser) aggregate() (*Input, error) {
	fn := p.next().text
	p.next() // (
	rel, err := p.ident("a relation")
	if err != nil {
		return nil, err
	}
	e := catalog[p.subject]
	r, ok := e.Many[rel]
	if !ok {
		if _, one := e.One[rel]; one {
			return nil, fmt.Errorf("%s.%s is a single record, not a list: read its fields (%s.%s)", p.subject, rel, rel, firstField(catalog[e.One[rel].Target]))
		}
		if _, f := e.Fields[rel]; f {
			return nil, fmt.Errorf("%s(%s): %s is a field of %s, not a list of records; aggregates take one of %s", fn, rel, rel, p.subject, strings.Join(sortedKeys(e.Many), ", "))
		}
		return nil, fmt.Errorf("no list %q on %s (want one of %s)%s", rel, p.subject, strings.Join(sortedKeys(e.Many), ", "), suggest(rel, sortedKeys(e.Many)))
	}
	target := catalog[r.Target]
	a := &Aggregate{Func: fn, Relation: rel, Target: r.Target}
	if p.accept(tPunct, ".") {
		a.Field, err = p.ident("a field of " + r.Target)
		if err != nil {
			return nil, err
		}
		if _, ok := target.Fields[a.Field]; !ok {
			if _, one := target.One[a.Field]; one {
				return nil, fmt.Errorf("%s.%s is a relation; aggregates read fields of %s itself", rel, a.Field, r.Target)
			}
			return nil, fmt.Errorf("no field %q on %s%s", a.Field, r.Target, suggest(a.Field, sortedKeys(target.Fields)))
		}
	}
	kind := Number
	switch fn {
	case "count":
		if a.Field != "" {
			return nil, fmt.Errorf("count counts records: write count(%s), not count(%s.%s)", rel, rel, a.Field)
		}
	case "sum", "mean":
		if a.Field == "" {
			return nil, fmt.Errorf("%s needs a number field: %s(%s.FIELD)", fn, fn, rel)
		}
		if f := target.Fields[a.Field]; f.Kind != Number {
			return nil, fmt.Errorf("%s of %s.%s: it is a %s, not a number", fn, rel, a.Field, f.Kind)
		}
	case "min", "max":
		if a.Field == "" {
			return nil, fmt.Errorf("%s needs a number or time field: %s(%s.FIELD)", fn, fn, rel)
		}
		f := target.Fields[a.Field]
		if f.Kind != Number && f.Kind != Time {
			return nil, fmt.Errorf("%s of %s.%s: it is a %s, not a number or a time", fn, rel, a.Field, f.Kind)
		}
		kind = f.Kind
	case "days_since_first", "days_since_last":
		if a.Field == "" {
			a.Field = target.Time
		}
		if f := target.Fields[a.Field]; f.Kind != Time {
			return nil, fmt.Errorf("%s of %s.%s: it is a %s, not a time", fn, rel, a.Field, f.Kind)
		}
	}
	if p.accept(tIdent, "where") {
		for {
			c, err := p.condition(r.Target, target)
			if err != nil {
				return nil, err
			}
			a.Where = append(a.Where, c)
			if len(a.Where) > MaxConditions {
				return nil, fmt.Errorf("more than %d conditions", MaxConditions)
			}
			if !p.accept(tIdent, "and") {
				break
			}
		}
	}
	if p.accept(tIdent, "within") {
		w := p.next()
		if w.kind != tNumber {
			return nil, fmt.Errorf("window %s is not a duration such as 30d, 12h, 8w or 1y", w)
		}
		if a.Within, err = ParseWindow(w.text); err != nil {
			return nil, err
		}
		a.WithinText = w.text
	}
	if err := p.expect(tPunct, ")"); err != nil {
		if t := p.toks[p.i]; t.kind == tIdent && (t.text == "or" || t.text == "within" || t.text == "where") {
			return nil, fmt.Errorf("%v (conditions join with and; where comes before within)", err)
		}
		return nil, err
	}
	return &Input{Kind: kind, Agg: a, Entity: p.subject}, nil
}

func (p *parser) condition(entity string, e Entity) (Condition, error) {
	name, err := p.ident("a field of " + entity)
	if err != nil {
		return Condition{}, err
	}
	f, ok := e.Fields[name]
	if !ok {
		return Condition{}, fmt.Errorf("no field %q on %s%s", name, entity, suggest(name, sortedKeys(e.Fields)))
	}
	c := Condition{Field: name, Kind: f.Kind}
	t := p.next()
	switch {
	case t.kind == tPunct && t.text == "=", t.kind == tOp:
		c.Op = t.text
	case t.kind == tIdent && t.text == "in":
		c.Op = "in"
	default:
		return c, fmt.Errorf("expected a comparison (=, !=, <, <=, >, >=, in) after %s, found %s", name, t)
	}
	if c.Op != "=" && c.Op != "!=" && c.Op != "in" && f.Kind != Number {
		return c, fmt.Errorf("%s.%s is a %s: compare it with = , != or in", entity, name, f.Kind)
	}
	if f.Kind == Time {
		return c, fmt.Errorf("%s.%s is a time: use within for a window", entity, name)
	}
	value := func() (string, error) {
		v := p.next()
		switch {
		case v.kind == tEOF || v.kind == tPunct || v.kind == tOp:
			return "", fmt.Errorf("expected a value for %s, found %s", name, v)
		case f.Kind == Number:
			if _, err := strconv.ParseFloat(v.text, 64); err != nil || v.kind != tNumber {
				return "", fmt.Errorf("%s is a number; %s is not", name, v)
			}
		case f.Kind == Flag:
			if v.text != "true" && v.text != "false" {
				return "", fmt.Errorf("%s is a flag: compare it with true or false, not %s", name, v)
			}
		case len(f.Enum) > 0:
			if !slices.Contains(f.Enum, v.text) {
				return "", fmt.Errorf("%s is one of %s, not %s%s", name, strings.Join(f.Enum, ", "), v, suggest(v.text, f.Enum))
			}
		}
		if len(v.text) > 200 {
			return "", fmt.Errorf("value for %s longer than 200 characters", name)
		}
		return v.text, nil
	}
	if c.Op == "in" {
		if err := p.expect(tPunct, "("); err != nil {
			return c, err
		}
		for {
			v, err := value()
			if err != nil {
				return c, err
			}
			c.Values = append(c.Values, v)
			if len(c.Values) > MaxValues {
				return c, fmt.Errorf("more than %d values in one in list", MaxValues)
			}
			if !p.accept(tPunct, ",") {
				break
			}
		}
		if err := p.expect(tPunct, ")"); err != nil {
			return c, err
		}
		return c, nil
	}
	v, err := value()
	if err != nil {
		return c, err
	}
	c.Values = []string{v}
	return c, nil
}

// Workspace is what a workspace adds to the catalog: its custom fields,
// by entity and key, with their types (number, text, boolean, date,
// select).
type Workspace struct {
	Custom map[string]map[string]string
}

// ParseIn is Parse against a workspace: custom fields that exist must be
// of the declared kind, and suggestions include them.
func ParseIn(ws *Workspace, subject string, index int, text string) (*Input, error) {
	return parse(ws, subject, index, text)
}
