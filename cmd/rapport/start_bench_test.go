package main

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// BenchmarkServeStart starts `rapport serve` on a migrated SQLite file
// with the four bundled WASM plugins and a warm compilation cache, as a
// restart does, and reports two times from exec: serving-ms, until the
// server prints that it listens (it answers /healthz and every query
// that needs no plugin from then on), and ready-ms, until /readyz
// answers 200 (every plugin loaded). One start before the timing warms
// the cache and migrates the database.
func BenchmarkServeStart(b *testing.B) {
	dir := b.TempDir()
	env := append(os.Environ(), "RAPPORT_DB=sqlite:"+filepath.Join(dir, "bench.db"), "RAPPORT_PLUGIN_CACHE="+filepath.Join(dir, "cache"))
	listen := regexp.MustCompile(`listening on (http://\S+)`)
	start := func() (serving, ready time.Duration) {
		t0 := time.Now()
		cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
		cmd.Env = env
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
		}()
		var url string
		for lines := bufio.NewScanner(out); url == "" && lines.Scan(); {
			if m := listen.FindStringSubmatch(lines.Text()); m != nil {
				url = m[1]
			}
		}
		if url == "" {
			b.Fatal("the server exited before listening")
		}
		serving = time.Since(t0)
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(2 * time.Millisecond) {
			res, err := http.Get(url + "/readyz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("not ready within a minute: %v", err)
			}
		}
		return serving, time.Since(t0)
	}
	start()
	var serving, ready time.Duration
	n := 0
	for b.Loop() {
		s, r := start()
		serving += s
		ready += r
		n++
	}
	b.ReportMetric(float64(serving.Microseconds())/1000/float64(n), "serving-ms")
	b.ReportMetric(float64(ready.Microseconds())/1000/float64(n), "ready-ms")
}
