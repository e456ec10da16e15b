package outbound

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAllowed(t *testing.T) {
	var deny Policy
	for _, s := range []string{"127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"} {
		if deny.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s allowed by default", s)
		}
	}
	for _, s := range []string{"93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"} {
		if !deny.Allowed(netip.MustParseAddr(s)) {
			t.Errorf("%s refused", s)
		}
	}
	allow, err := ParseAllow([]string{"127.0.0.0/8", "10.1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	p := Policy{Allow: allow}
	if !p.Allowed(netip.MustParseAddr("127.0.0.1")) || !p.Allowed(netip.MustParseAddr("10.1.2.3")) || p.Allowed(netip.MustParseAddr("10.1.2.4")) {
		t.Errorf("allow-list not applied: %v", allow)
	}
	if _, err := ParseAllow([]string{"10.0.0.0/33"}); err == nil {
		t.Error("bad CIDR accepted")
	}
}

// listen serves h on ip (an address of the loopback interface).
func listen(t *testing.T, ip string, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestClientChecksTheDialledAddress: literal internal addresses, names
// that resolve to one, and redirects to one are all refused, because the
// check runs on the address dialled; the allow-list opens them.
func TestClientChecksTheDialledAddress(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	inside := listen(t, "127.0.0.1", ok)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(inside, "http://"))
	c := Policy{}.Client(2 * time.Second)
	for _, u := range []string{inside, "http://localhost:" + port + "/", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:" + port + "/"} {
		start := time.Now()
		res, err := c.Get(u)
		if err == nil {
			res.Body.Close()
			t.Errorf("%s: reached", u)
			continue
		}
		if !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want ErrRefused", u, err)
		}
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("%s refused after %v", u, d)
		}
		if msg := Error("POST", err).Error(); strings.Contains(msg, port) || !strings.Contains(msg, "not allowed") {
			t.Errorf("described as %q", msg)
		}
	}
	// A public-looking hop that redirects inside is refused at the
	// redirect: only 127.0.0.2 is allowed here, the redirect goes to
	// 127.0.0.1.
	hop := listen(t, "127.0.0.2", http.RedirectHandler(inside+"/internal", http.StatusFound))
	allowHop := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}.Client(2 * time.Second)
	if _, err := allowHop.Get(hop); !errors.Is(err, ErrRefused) {
		t.Errorf("redirect inside: %v, want ErrRefused", err)
	}
	// Allowed by the operator, the same destinations are reached.
	open := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.Client(2 * time.Second)
	res, err := open.Get(hop)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 {
		t.Errorf("status %d", res.StatusCode)
	}
}

// TestDescribeHidesConnectionDetails: a closed port and a timeout read
// alike whatever the address, so a tenant cannot map ports.
func TestDescribeHidesConnectionDetails(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}.Client(time.Second)
	_, err := c.Get("http://" + addr + "/")
	if err == nil {
		t.Fatal("reached a closed port")
	}
	msg := Error("webhook POST", err).Error()
	if msg != "webhook POST: destination unreachable" {
		t.Errorf("closed port described as %q", msg)
	}
}
