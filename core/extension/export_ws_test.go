package extension

// LoadedPackages is how many workspace plugin packages the registry has
// loaded (one per distinct package, whichever workspaces installed it).
func LoadedPackages(r *Registry) int {
	w := r.wsPlugins.Load()
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.loaded)
}
