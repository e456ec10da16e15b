package pluginpkg

import (
	"bytes"
	"sort"
)

// HostFunctions are the functions the host provides a module, by import
// module and name, as sdk/ABI.md lists them under "Host functions": the
// module "rapport" and the WASI preview 1 functions. A module importing
// anything else (another function, a memory, a table or a global) is
// refused.
var HostFunctions = map[string][]string{
	"rapport": {"log"},
	"wasi_snapshot_preview1": {
		"args_get", "args_sizes_get", "clock_res_get", "clock_time_get", "environ_get", "environ_sizes_get",
		"fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get", "fd_fdstat_set_flags",
		"fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size", "fd_filestat_set_times", "fd_pread",
		"fd_prestat_dir_name", "fd_prestat_get", "fd_pwrite", "fd_read", "fd_readdir", "fd_renumber", "fd_seek",
		"fd_sync", "fd_tell", "fd_write", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
		"path_link", "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
		"path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "random_get", "sched_yield", "sock_accept",
		"sock_recv", "sock_send", "sock_shutdown",
	},
}

// Import is one import of a WASM module.
type Import struct {
	Module, Name string
	// Kind is func, table, memory or global.
	Kind string
}

// provided reports whether the host provides imp.
func provided(imp Import) bool {
	if imp.Kind != "func" {
		return false
	}
	names := HostFunctions[imp.Module]
	i := sort.SearchStrings(names, imp.Name)
	return i < len(names) && names[i] == imp.Name
}

func init() {
	for _, names := range HostFunctions {
		sort.Strings(names)
	}
}

// checkModule refuses a module that is not a WASM binary or imports what
// the host does not provide.
func checkModule(code []byte) error {
	imports, err := Imports(code)
	if err != nil {
		return err
	}
	for _, imp := range imports {
		if !provided(imp) {
			return fail(ErrImport, "the module imports %s %q from %q, which the host does not provide (see sdk/ABI.md, Host functions)", imp.Kind, imp.Name, imp.Module)
		}
	}
	return nil
}

// Imports lists the imports of a WASM binary module, reading only its
// header and sections up to the import section. A binary that is not
// well formed that far is ErrMalformed.
func Imports(code []byte) ([]Import, error) {
	if len(code) < 8 || !bytes.Equal(code[:4], []byte("\x00asm")) {
		return nil, fail(ErrMalformed, "the module is not a WebAssembly binary")
	}
	if !bytes.Equal(code[4:8], []byte{1, 0, 0, 0}) {
		return nil, fail(ErrMalformed, "the module is WebAssembly binary version %v, want 1", code[4:8])
	}
	r := &wasmReader{b: code[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)) {
			return nil, fail(ErrMalformed, "the module's section %d is cut short", id)
		}
		body := r.b[:size]
		r.b = r.b[size:]
		switch {
		case id == 0:
			continue // custom section
		case id == 1:
			continue // types
		case id == 2:
			return readImports(&wasmReader{b: body})
		default:
			return nil, nil // past where imports may be
		}
	}
	return nil, nil
}

func readImports(r *wasmReader) ([]Import, error) {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		return nil, fail(ErrMalformed, "the module's import section is malformed")
	}
	out := make([]Import, 0, n)
	for i := uint32(0); i < n; i++ {
		imp := Import{Module: r.name(), Name: r.name()}
		kind := r.byte()
		switch kind {
		case 0:
			imp.Kind = "func"
			r.u32()
		case 1:
			imp.Kind = "table"
		case 2:
			imp.Kind = "memory"
		case 3:
			imp.Kind = "global"
		default:
			r.err = errShort
		}
		if r.err != nil {
			return nil, fail(ErrMalformed, "the module's import section is malformed")
		}
		out = append(out, imp)
		if imp.Kind != "func" {
			// The rest is not needed: this import is refused.
			return out, nil
		}
	}
	return out, nil
}

// wasmReader reads the binary format's primitives; the first error
// sticks.
type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// u32 reads an unsigned LEB128 of at most 5 bytes.
func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := uint(0); shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errShort
	return 0
}

func (r *wasmReader) name() string {
	n := r.u32()
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		r.err = errShort
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
