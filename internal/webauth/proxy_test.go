package webauth

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

// TestProxyHeaders checks the client address and the cookie's Secure flag
// follow X-Forwarded-For and X-Forwarded-Proto only with TrustProxy.
func TestProxyHeaders(t *testing.T) {
	for _, tc := range []struct {
		name          string
		trust, secure bool
		tls           bool
		xff, proto    string
		wantIP        string
		wantSecure    bool
	}{
		{"plain", false, false, false, "", "", "192.0.2.1", false},
		{"TLS", false, false, true, "", "", "192.0.2.1", true},
		{"headers ignored without trust", false, false, false, "203.0.113.9", "https", "192.0.2.1", false},
		{"trusted proxy", true, false, false, "198.51.100.7, 203.0.113.9", "https", "203.0.113.9", true},
		{"trusted proxy over http", true, false, false, "203.0.113.9", "http", "203.0.113.9", false},
		{"secure cookies", false, true, false, "", "", "192.0.2.1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &Handler{cfg: Config{TrustProxy: tc.trust, SecureCookies: tc.secure}}
			r := httptest.NewRequest("POST", "/auth/signin", nil)
			r.RemoteAddr = "192.0.2.1:4321"
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if got := h.clientIP(r); got != tc.wantIP {
				t.Errorf("clientIP = %q, want %q", got, tc.wantIP)
			}
			if got := h.secure(r); got != tc.wantSecure {
				t.Errorf("secure = %v, want %v", got, tc.wantSecure)
			}
		})
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"", true},
		{"http://crm.example.com", true},
		{"https://CRM.example.com", true},
		{"https://crm.example.com:8443", false},
		{"https://evil.example", false},
		{"null", false},
		{"file://crm.example.com", false},
		{"::bad", false},
	} {
		r := httptest.NewRequest("POST", "http://crm.example.com/auth/signin", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := SameOrigin(r); got != tc.want {
			t.Errorf("SameOrigin(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
}
