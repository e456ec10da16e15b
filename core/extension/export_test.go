package extension

import (
	"time"

	"github.com/rapportcrm/rapport/core/extension/process"
)

// PluginPID is the PID of p's plugin process, or 0 (for tests).
func PluginPID(p *Plugin) int {
	if c, ok := p.run.(*process.Client); ok {
		return c.PID()
	}
	return 0
}

// SetClock makes r read the time from now (for tests of retry backoff).
func SetClock(r *Registry, now func() time.Time) { r.now = now }
