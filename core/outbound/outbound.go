// Package outbound guards the connections the server opens on a tenant's
// behalf (webhooks today): a destination that resolves to a loopback,
// private, link-local (the cloud metadata address 169.254.169.254
// included), multicast or otherwise internal address is refused unless the
// operator allows its range. The check runs on the address actually
// dialled, after name resolution, for every connection (redirects
// included), so a name that resolves elsewhere on a second lookup (DNS
// rebinding) does not get around it.
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/rapportcrm/rapport/core/errcode"
)

// ErrRefused is the error of a connection to a destination the policy
// does not allow.
var ErrRefused = errors.New("destination not allowed: it resolves to an internal address (loopback, private, link-local or multicast)")

// internal are the ranges refused unless allowed.
var internal = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this" network
		"10.0.0.0/8",     // private
		"100.64.0.0/10",  // carrier-grade NAT
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, cloud metadata
		"172.16.0.0/12",  // private
		"192.0.0.0/24",   // IETF protocol assignments
		"192.168.0.0/16", // private
		"198.18.0.0/15",  // benchmarking
		"224.0.0.0/4",    // multicast
		"240.0.0.0/4",    // reserved, broadcast
		"::/128",         // unspecified
		"::1/128",        // loopback
		"64:ff9b:1::/48", // local NAT64
		"fc00::/7",       // unique local (fd00:ec2::254 metadata included)
		"fe80::/10",      // link-local
		"ff00::/8",       // multicast
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// Policy decides which addresses outbound connections may reach.
type Policy struct {
	// Allow lists ranges allowed although internal (e.g. 127.0.0.0/8 for
	// a local test receiver, 10.1.2.0/24 for an internal hook service).
	Allow []netip.Prefix
}

// ParseAllow reads CIDR ranges (or single addresses) as the operator
// gives them to --outbound-allow.
func ParseAllow(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, errcode.Input("outbound-allow", "%q is not a CIDR range or an IP address", s)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, errcode.Input("outbound-allow", "%q is not a CIDR range or an IP address", s)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Allowed reports whether a connection to ip may be made.
func (p Policy) Allowed(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return true
		}
	}
	if ip.Is4In6() || ip.Zone() != "" {
		return false
	}
	for _, r := range internal {
		if r.Contains(ip) {
			return false
		}
	}
	return true
}

// Control is a net.Dialer Control function: it refuses the connection
// when the address about to be dialled is not allowed.
func (p Policy) Control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return ErrRefused
	}
	if !p.Allowed(ap.Addr()) {
		return ErrRefused
	}
	return nil
}

// Client returns an HTTP client whose every connection goes through the
// policy, with timeout per request, no proxy (a proxy would dial for it)
// and at most 5 redirects, each checked when dialled.
func (p Policy) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: p.Control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: tr, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}}
}

// Describe turns an error of an outbound request into what a tenant may
// read: whether the policy refused it, it timed out, or the destination
// was unreachable, without the addresses, ports and system messages that
// would let a tenant map the operator's network.
func Describe(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrRefused):
		return ErrRefused.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isTimeout(err):
		return "destination did not answer in time"
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return "destination host not found"
	}
	return "destination unreachable"
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Error wraps err with the description Describe gives, keeping it as the
// cause for the operator's logs.
func Error(prefix string, err error) error {
	return &describedError{msg: fmt.Sprintf("%s: %s", prefix, Describe(err)), err: err}
}

type describedError struct {
	msg string
	err error
}

func (e *describedError) Error() string { return e.msg }
func (e *describedError) Unwrap() error { return e.err }
