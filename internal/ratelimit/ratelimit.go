// Package ratelimit keeps token buckets per key (an API token, a
// workspace) over golang.org/x/time/rate, bounded in number: a key idle
// long enough for its bucket to refill is forgotten (a fresh bucket is the
// same), and past MaxKeys the least recently used key is forgotten first.
package ratelimit

import (
	"container/list"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Buckets holds one token bucket per key. It is safe for concurrent use.
type Buckets struct {
	rate    rate.Limit
	burst   int
	maxKeys int
	// idle is how long a bucket takes to refill from empty: a key unused
	// that long holds a full bucket, the same as a new one.
	idle time.Duration

	mu   sync.Mutex
	lru  *list.List // of *entry, most recently used first
	keys map[string]*list.Element
}

type entry struct {
	key  string
	lim  *rate.Limiter
	used time.Time
}

// New returns buckets that refill perSecond tokens a second up to burst,
// for at most maxKeys keys at once (at least 1).
func New(perSecond float64, burst, maxKeys int) *Buckets {
	if maxKeys < 1 {
		maxKeys = 1
	}
	idle := time.Duration(float64(burst) / perSecond * float64(time.Second))
	if perSecond <= 0 || idle <= 0 {
		idle = time.Second
	}
	return &Buckets{rate: rate.Limit(perSecond), burst: burst, maxKeys: maxKeys, idle: idle,
		lru: list.New(), keys: map[string]*list.Element{}}
}

// Decision is the outcome of Take, and the state of the key's bucket.
type Decision struct {
	// Allowed is whether the tokens were taken.
	Allowed bool
	// Limit is the bucket's size (its burst).
	Limit int
	// Remaining is the whole tokens left in the bucket after Take.
	Remaining int
	// Reset is how long until the bucket is full again.
	Reset time.Duration
	// RetryAfter is, when not Allowed, how long until the tokens asked
	// for are there (math.MaxInt64 when more than Limit were asked for).
	RetryAfter time.Duration
}

// Take takes n tokens from key's bucket at now, or none when it holds
// fewer than n.
func (b *Buckets) Take(key string, n int, now time.Time) Decision {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	var e *entry
	if el, ok := b.keys[key]; ok {
		e = el.Value.(*entry)
		b.lru.MoveToFront(el)
	} else {
		for b.lru.Len() >= b.maxKeys {
			b.forget(b.lru.Back())
		}
		e = &entry{key: key, lim: rate.NewLimiter(b.rate, b.burst)}
		b.keys[key] = b.lru.PushFront(e)
	}
	e.used = now
	d := Decision{Limit: b.burst, Allowed: true}
	r := e.lim.ReserveN(now, n)
	switch {
	case !r.OK():
		d.Allowed, d.RetryAfter = false, time.Duration(math.MaxInt64)
	case r.DelayFrom(now) > 0:
		d.Allowed, d.RetryAfter = false, r.DelayFrom(now)
		r.CancelAt(now)
	}
	tokens := e.lim.TokensAt(now)
	d.Remaining = max(0, int(math.Floor(tokens)))
	if missing := float64(b.burst) - tokens; missing > 0 && b.rate > 0 {
		d.Reset = time.Duration(missing / float64(b.rate) * float64(time.Second))
	}
	return d
}

// sweep forgets the least recently used keys idle for longer than a
// bucket takes to refill. Called with mu held.
func (b *Buckets) sweep(now time.Time) {
	for el := b.lru.Back(); el != nil; el = b.lru.Back() {
		if now.Sub(el.Value.(*entry).used) <= b.idle {
			return
		}
		b.forget(el)
	}
}

func (b *Buckets) forget(el *list.Element) {
	delete(b.keys, el.Value.(*entry).key)
	b.lru.Remove(el)
}

// Len is the number of keys held.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lru.Len()
}
