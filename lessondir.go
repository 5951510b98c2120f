package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/netstep/netstep/engine"
)

// lessonFolder is a --lessons folder as the catalog reads it: regular files
// inside the folder, and nothing else. A symbolic link is followed only
// while it stays inside (os.Root refuses a path that leaves the folder);
// a FIFO, device or socket is refused without waiting on it (every file is
// opened non-blocking and checked before it is read), and so is a file
// larger than a lesson may be. Each refusal names the file, so the catalog
// skips it and says why.
type lessonFolder struct{ root *os.Root }

// openLessonFolder opens dir for reading lessons.
func openLessonFolder(dir string) (*lessonFolder, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%q: not a directory", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", dir, err)
	}
	return &lessonFolder{root: root}, nil
}

// Open opens the folder itself (".") or one regular file in it.
func (f *lessonFolder) Open(name string) (fs.File, error) {
	if name == "." {
		return f.root.Open(".")
	}
	file, err := f.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if st, lerr := f.root.Lstat(name); lerr == nil && st.Mode()&fs.ModeSymlink != 0 {
			return nil, &fs.PathError{Op: "open", Path: name, Err: errors.New("a symbolic link that leads out of the folder or nowhere; only files inside the folder are read")}
		}
		return nil, err
	}
	if err := checkLessonFile(file, name); err != nil {
		file.Close()
		return nil, err
	}
	return file, nil
}

// Close closes the folder.
func (f *lessonFolder) Close() error { return f.root.Close() }

// checkLessonFile refuses an open file that is not a regular file or is
// larger than a lesson may be.
func checkLessonFile(file *os.File, name string) error {
	st, err := file.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("not a regular file (%s); only regular files are read", kindOf(st.Mode()))}
	}
	if st.Size() > engine.MaxLessonBytes {
		return &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%d bytes; a lesson may have at most %d", st.Size(), engine.MaxLessonBytes)}
	}
	return nil
}

// kindOf names what a non-regular file is.
func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "not a plain file"
}

// readLessonFile reads the lesson file at path the way the folder does: a
// regular file of at most engine.MaxLessonBytes, never waiting on a FIFO.
func readLessonFile(path string) ([]byte, error) {
	file, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	if err := checkLessonFile(file, path); err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(file, engine.MaxLessonBytes+1))
}

// fileProblems splits the catalog's error into one error per file.
func fileProblems(err error) []error {
	if err == nil {
		return nil
	}
	if many, ok := err.(interface{ Unwrap() []error }); ok {
		return many.Unwrap()
	}
	return []error{err}
}
