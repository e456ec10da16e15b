package ratelimit

import (
	"testing"
	"time"
)

// Buckets of 2 tokens a second up to 4: the figures below follow from
// that by hand (a token every 500 ms; an empty bucket is full after 2 s).
func TestTake(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	type step struct {
		key     string
		n       int
		at      time.Duration // after t0
		allowed bool
		remain  int
		retry   time.Duration
		reset   time.Duration
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"burst then refused", []step{
			{"a", 4, 0, true, 0, 0, 2 * time.Second},
			{"a", 1, 0, false, 0, 500 * time.Millisecond, 2 * time.Second},
			{"a", 1, 500 * time.Millisecond, true, 0, 0, 2 * time.Second},
			{"a", 2, 500 * time.Millisecond, false, 0, time.Second, 2 * time.Second},
		}},
		{"keys are separate", []step{
			{"a", 4, 0, true, 0, 0, 2 * time.Second},
			{"b", 1, 0, true, 3, 0, 500 * time.Millisecond},
		}},
		{"a refusal takes nothing", []step{
			{"a", 3, 0, true, 1, 0, 1500 * time.Millisecond},
			{"a", 2, 0, false, 1, 500 * time.Millisecond, 1500 * time.Millisecond},
			{"a", 1, 0, true, 0, 0, 2 * time.Second},
		}},
		{"more than the burst never passes", []step{
			{"a", 5, 0, false, 4, 1<<63 - 1, 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New(2, 4, 10)
			for i, s := range tt.steps {
				d := b.Take(s.key, s.n, t0.Add(s.at))
				if d.Allowed != s.allowed || d.Remaining != s.remain || d.RetryAfter != s.retry || d.Reset != s.reset || d.Limit != 4 {
					t.Errorf("step %d: %+v, want allowed %v remaining %d retry %v reset %v limit 4", i, d, s.allowed, s.remain, s.retry, s.reset)
				}
			}
		})
	}
}

func TestKeysBounded(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	b := New(2, 4, 2)
	b.Take("a", 4, t0)
	b.Take("b", 1, t0)
	b.Take("c", 1, t0) // forgets a, the least recently used
	if b.Len() != 2 {
		t.Fatalf("Len = %d, want 2", b.Len())
	}
	// a comes back with a full bucket.
	if d := b.Take("a", 4, t0); !d.Allowed {
		t.Fatalf("a after eviction: %+v, want a full bucket", d)
	}
	// Idle past a full refill (2 s), every other key is swept.
	b.Take("d", 1, t0.Add(2*time.Second+time.Millisecond))
	if b.Len() != 1 {
		t.Fatalf("Len after idle = %d, want 1 (only d)", b.Len())
	}
}
