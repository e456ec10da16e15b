package graph_test

import (
	"archive/tar"
	"io"
)

type tarWriter struct{ *tar.Writer }

func newTar(w io.Writer) tarWriter { return tarWriter{tar.NewWriter(w)} }

func (t tarWriter) add(name string, b []byte) {
	t.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))})
	t.Write(b)
}

func (t tarWriter) close() { t.Close() }
