package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/extensiontest"
	"github.com/rapportcrm/rapport/core/extension/wasm"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
	"github.com/rapportcrm/rapport/sdk/pluginpkg"
)

const installMutation = `mutation($p: Upload!) { installPlugin(package: $p) { name version origin status } }`

// upload sends a GraphQL multipart request (operations, map, one file) with
// the named token.
func (e *env) upload(token, query string, file []byte) (int, response) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"p": nil}})
	mw.WriteField("operations", string(ops))
	mw.WriteField("map", `{"0": ["variables.p"]}`)
	fw, _ := mw.CreateFormFile("0", "plugin.rpk")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var r response
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		e.t.Fatalf("decode response (status %d): %v", res.StatusCode, err)
	}
	return res.StatusCode, r
}

func TestInstallPluginOverGraphQL(t *testing.T) {
	dir := extensiontest.Plugins(t)
	unsigned, _, err := pluginpkg.PackDir(filepath.Join(dir, "leadscore"), pluginpkg.PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kb, err := os.ReadFile(filepath.Join(extensiontest.Root(), "sdk", "pluginpkg", "testdata", "test.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pluginpkg.ParsePrivateKey(kb)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := pluginpkg.Sign(unsigned, key, pluginpkg.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	// The signed package with a byte of its module changed.
	tampered := append([]byte{}, signed...)
	{
		p, _ := pluginpkg.Read(signed, pluginpkg.Limits{})
		p.Files["plugin.wasm"] = append(append([]byte{}, p.Module()...), 0)
		raw := map[string][]byte{}
		for k, v := range p.Files {
			raw[k] = v
		}
		// Keep the signed SHA256SUMS: the module no longer matches it.
		tampered = rawPackage(t, raw)
	}
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) { installOverGraphQL(t, dia, key, signed, unsigned, tampered) })
	}
}

func installOverGraphQL(t *testing.T, dia string, key pluginpkg.PrivateKey, signed, unsigned, tampered []byte) {
	{
		e, err := wasm.NewEngine(wasm.Config{CacheDir: filepath.Join(os.TempDir(), "rapport-wasm-test-cache")})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{t.TempDir()}, Engine: e})
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Close(context.Background())
		reg.EnableWorkspacePlugins(extension.WorkspacePluginConfig{Policy: pluginpkg.Policy{Trusted: []pluginpkg.PublicKey{key.Public()}, RequireSigned: true}})
		env := newEnvWith(t, dia, reg)
		st := env.st
		env.srv.Close()
		env.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: st.Client, Extensions: reg, MaxUpload: pluginpkg.DefaultMaxSize}))
		defer env.srv.Close()
		a := tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: env.wsA.ID, Role: tenancy.RoleAdmin})
		for i := 0; i < 25; i++ {
			st.Client.Lead.Create().SetTitle("Lead").SetSource("web").SetEmail("x@y.test").ExecX(a)
		}

		// A viewer is refused before the upload is read.
		if status, r := env.upload("aViewer", installMutation, signed); status != http.StatusForbidden || r.Errors[0].code() != "FORBIDDEN" {
			t.Fatalf("viewer upload: %d %+v", status, r.Errors)
		}
		// Unsigned and tampered packages are refused, and nothing stored.
		for name, pkg := range map[string][]byte{"not signed": unsigned, `"plugin.wasm" does not match its checksum`: tampered} {
			_, r := env.upload("a", installMutation, pkg)
			if len(r.Errors) == 0 || r.Errors[0].code() != "BAD_USER_INPUT" || r.Errors[0].field() != "package" || !strings.Contains(r.Errors[0].Message, name) {
				t.Fatalf("%s: %+v", name, r.Errors)
			}
		}
		if n, _ := st.Client.WorkspacePlugin.Query().Count(a); n != 0 {
			t.Fatalf("%d plugins stored after refusals", n)
		}
		// A multipart request runs installPlugin only.
		if _, r := env.upload("a", `mutation($p: Upload!) { installPlugin(package: $p) { name } deleteWorkspace(confirm: "alpha") }`, signed); len(r.Errors) == 0 || r.Errors[0].code() != "BAD_USER_INPUT" {
			t.Fatalf("another mutation in an upload: %+v", r)
		}
		status, r := env.upload("a", installMutation, signed)
		if status != http.StatusOK || len(r.Errors) > 0 || str(r.Data, "installPlugin", "origin") != "WORKSPACE" || str(r.Data, "installPlugin", "name") != "leadscore" {
			t.Fatalf("install: %d %+v %v", status, r.Errors, r.Data)
		}
		env.ok("a", `mutation { bindExtension(input: {point: score, subjectType: lead, plugin: "leadscore", version: "1.0.0"}) { id } }`, nil)
		data := env.ok("a", `mutation { scoreSubjects(subjectType: lead) { plugin scored failedBatches } }`, nil)
		if num(data, "scoreSubjects", "scored") != 25 {
			t.Fatalf("scored %v", data)
		}
		data = env.ok("a", `{ plugins { name version origin } }`, nil)
		if str(data, "plugins", 0, "name") != "leadscore" || str(data, "plugins", 0, "origin") != "WORKSPACE" {
			t.Fatalf("alpha's plugins %v", data)
		}
		// Workspace B neither sees, binds nor uninstalls it.
		if data := env.ok("b", `{ plugins { name } }`, nil); len(get(data, "plugins").([]any)) != 0 {
			t.Fatalf("beta's plugins %v", data)
		}
		env.fail("b", `mutation { bindExtension(input: {point: score, subjectType: lead, plugin: "leadscore", version: "1.0.0"}) { id } }`, nil, "NOT_FOUND")
		env.fail("b", `mutation { uninstallPlugin(name: "leadscore", version: "1.0.0", force: true) }`, nil, "NOT_FOUND")
		env.fail("aViewer", `mutation { uninstallPlugin(name: "leadscore", version: "1.0.0") }`, nil, "FORBIDDEN")
		// Bound: uninstalling needs force.
		env.fail("a", `mutation { uninstallPlugin(name: "leadscore", version: "1.0.0") }`, nil, "CONFLICT")
		if data := env.ok("a", `mutation { uninstallPlugin(name: "leadscore", version: "1.0.0", force: true) }`, nil); get(data, "uninstallPlugin") != true {
			t.Fatalf("uninstall %v", data)
		}
		if n, _ := st.Client.WorkspacePlugin.Query().Count(a); n != 0 {
			t.Fatalf("%d plugins left", n)
		}
	}
}

// rawPackage archives files as they are, SHA256SUMS included unchanged.
func rawPackage(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := newTar(&buf)
	for _, name := range []string{"plugin.json", "plugin.wasm", pluginpkg.SumsFile, pluginpkg.SignatureFile} {
		tw.add(name, files[name])
	}
	tw.close()
	return buf.Bytes()
}

// TestUploadBodyCap: a multipart request may carry up to the upload cap,
// while a JSON request stays under the body cap; above its cap each is 413.
func TestUploadBodyCap(t *testing.T) {
	e, err := wasm.NewEngine(wasm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := extension.NewRegistry(context.Background(), extension.Config{Dirs: []string{t.TempDir()}, Engine: e})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close(context.Background())
	reg.EnableWorkspacePlugins(extension.WorkspacePluginConfig{MaxPackageSize: 256 << 10})
	env := newEnvWith(t, "sqlite", reg)
	env.srv.Close()
	env.srv = httptest.NewServer(graph.NewHandler(graph.Config{Client: env.st.Client, Extensions: reg, Limits: graph.Limits{MaxBody: 4 << 10}, MaxUpload: 256 << 10}))
	defer env.srv.Close()
	if r := env.do("a", `{ plugins { name } }`+strings.Repeat(" ", 8<<10), nil); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("JSON over the body cap: %d", r.status)
	}
	status, r := env.upload("a", installMutation, bytes.Repeat([]byte("x"), 100<<10))
	if status != http.StatusOK || len(r.Errors) == 0 || r.Errors[0].code() != "BAD_USER_INPUT" || r.Errors[0].field() != "package" {
		t.Fatalf("upload under its cap: %d %+v", status, r.Errors)
	}
	if status, _ := env.uploadStatus("a", bytes.Repeat([]byte("x"), 400<<10)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("upload over its cap: %d", status)
	}
}

// uploadStatus is upload for a response that may not be JSON.
func (e *env) uploadStatus(token string, file []byte) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("operations", `{"query":"mutation($p: Upload!) { installPlugin(package: $p) { name } }","variables":{"p":null}}`)
	mw.WriteField("map", `{"0": ["variables.p"]}`)
	fw, _ := mw.CreateFormFile("0", "plugin.rpk")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	return res.StatusCode, ""
}
