package access

import "time"

// SetClock makes t read the time from now, for tests.
func SetClock(t *Tokens, now func() time.Time) { t.now = now }

// SetSessionClock makes s read the time from now, for tests.
func SetSessionClock(s *Sessions, now func() time.Time) { s.now = now }

// SetThrottleClock makes t read the time from now, for tests.
func SetThrottleClock(t *Throttle, now func() time.Time) { t.now = now }
