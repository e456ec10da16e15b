//go:build !unix

package wasm

import "os"

// mapFile reads the file at path; systems other than Unix get no mapping.
func mapFile(path string) ([]byte, func(), error) {
	b, err := os.ReadFile(path)
	return b, func() {}, err
}
