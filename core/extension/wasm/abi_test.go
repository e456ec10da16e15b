package wasm

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rapportcrm/rapport/core/extension/build"
)

// The ABI test modules are assembled by hand:
//
//	(import "rapport" "log" (func $log (param i32 i32 i32)))
//	(memory (export "memory") 1)
//	(data (i32.const 16) "probe") (data (i32.const 32) "init") (data (i32.const 48) "start")
//	(func (export "rapport_abi_version") (result i32) (call $log (i32.const 0) (i32.const 16) (i32.const 5)) (i32.const V))
//	(func (export "rapport_input") (param i32) (result i32) (i32.const 1024))
//	(func (export "rapport_call") (param i32 i32) (result i64) (i64.const 0))
//	(func (export "_initialize") (call $log (i32.const 1) (i32.const 32) (i32.const 4)))
//	(func $start (call $log (i32.const 1) (i32.const 48) (i32.const 5)))
//	(start $start)
//
// with, when section is set, a custom section "rapport.abi" holding
// section (unsigned LEB128). Each piece of guest code logs its name.
func abiModule(version byte, section int) []byte {
	u32 := func(v uint32) []byte { return appendULEB(nil, v) }
	name := func(s string) []byte { return append(u32(uint32(len(s))), s...) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	vec := func(items ...[]byte) []byte { return cat(u32(uint32(len(items))), cat(items...)) }
	sec := func(id byte, payload []byte) []byte { return cat([]byte{id}, u32(uint32(len(payload))), payload) }
	body := func(code ...byte) []byte { return cat(u32(uint32(len(code)+1)), []byte{0}, code) }
	export := func(n string, kind, index byte) []byte { return cat(name(n), []byte{kind, index}) }
	data := func(offset byte, s string) []byte { return cat([]byte{0, 0x41, offset, 0x0b}, name(s)) }
	logCall := func(level, ptr, size byte) []byte { return []byte{0x41, level, 0x41, ptr, 0x41, size, 0x10, 0} }
	code := cat([]byte("\x00asm\x01\x00\x00\x00"),
		sec(1, vec([]byte{0x60, 3, 0x7f, 0x7f, 0x7f, 0}, []byte{0x60, 0, 1, 0x7f}, []byte{0x60, 1, 0x7f, 1, 0x7f},
			[]byte{0x60, 2, 0x7f, 0x7f, 1, 0x7e}, []byte{0x60, 0, 0})),
		sec(2, vec(cat(name("rapport"), name("log"), []byte{0, 0}))),
		sec(3, vec([]byte{1}, []byte{2}, []byte{3}, []byte{4}, []byte{4})),
		sec(5, vec([]byte{0, 1})),
		sec(7, vec(export("memory", 2, 0), export("rapport_abi_version", 0, 1), export("rapport_input", 0, 2),
			export("rapport_call", 0, 3), export("_initialize", 0, 4))),
		sec(8, u32(5)),
		sec(10, vec(body(append(logCall(0, 16, 5), 0x41, version, 0x0b)...), body(0x41, 0x80, 0x08, 0x0b), body(0x42, 0, 0x0b),
			body(append(logCall(1, 32, 4), 0x0b)...), body(append(logCall(1, 48, 5), 0x0b)...))),
		sec(11, vec(data(16, "probe"), data(32, "init"), data(48, "start"))),
	)
	if section >= 0 {
		code = append(code, sec(0, cat(name("rapport.abi"), u32(uint32(section))))...)
	}
	return code
}

func appendULEB(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// guestLog records the messages modules log, in order.
type guestLog struct {
	mu   sync.Mutex
	msgs []string
}

func (g *guestLog) Enabled(context.Context, slog.Level) bool { return true }
func (g *guestLog) Handle(_ context.Context, r slog.Record) error {
	g.mu.Lock()
	g.msgs = append(g.msgs, r.Message)
	g.mu.Unlock()
	return nil
}
func (g *guestLog) WithAttrs([]slog.Attr) slog.Handler { return g }
func (g *guestLog) WithGroup(string) slog.Handler      { return g }

// TestABICheckedBeforeGuestCode loads modules that state their ABI
// version in a custom section, or only through rapport_abi_version, and
// checks what guest code ran before the check: none when the section
// says; only rapport_abi_version, first and alone, without it. A module
// of another ABI is refused with nothing else run; one of this ABI then
// runs its start function and _initialize.
func TestABICheckedBeforeGuestCode(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version byte
		section int // -1: none
		refused string
		ran     []string
	}{
		// With the section, the export is checked against it once the
		// module is initialised.
		{name: "section 1", version: 1, section: 1, ran: []string{"start", "init", "probe"}},
		{name: "section 1, export 2", version: 2, section: 1, refused: "rapport_abi_version answers 2", ran: []string{"start", "init", "probe"}},
		{name: "section 2", version: 2, section: 2, refused: "ABI 2"},
		{name: "section 2, export 1", version: 1, section: 2, refused: "ABI 2"},
		{name: "probe 1", version: 1, section: -1, ran: []string{"probe", "start", "init"}},
		{name: "probe 2", version: 2, section: -1, refused: "ABI 2", ran: []string{"probe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logged := &guestLog{}
			e, err := NewEngine(Config{Logger: slog.New(logged)})
			if err != nil {
				t.Fatal(err)
			}
			m, err := e.Load(context.Background(), "abi@test", abiModule(tc.version, tc.section), Limits{}, Grants{})
			if tc.refused != "" {
				if err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("error %v, want one saying %q", err, tc.refused)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				m.Close(context.Background())
			}
			if !slices.Equal(logged.msgs, tc.ran) {
				t.Errorf("guest code run: %q, want %q", logged.msgs, tc.ran)
			}
		})
	}
}

// TestGoGuestNeedsABISection loads the Go test guest as go build leaves
// it, without the custom section: rapport_abi_version cannot run before
// Go's _initialize, so the module is refused with an error that says how
// to build it.
func TestGoGuestNeedsABISection(t *testing.T) {
	withSection := guest(t)
	raw := withSection[:len(withSection)-len(build.AppendABISection(nil))]
	e, err := NewEngine(Config{Logger: slog.New(&guestLog{})})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Load(context.Background(), "guest@test", raw, Limits{}, Grants{})
	if err == nil || !strings.Contains(err.Error(), "rapport plugin build") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line saying to build it with rapport plugin build", err)
	}
	m, err := e.Load(context.Background(), "guest@test", withSection, Limits{}, Grants{})
	if err != nil {
		t.Fatal(err)
	}
	m.Close(context.Background())
}
