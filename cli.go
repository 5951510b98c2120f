package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/netstep/netstep/engine"
)

// flags is a command's flag set in which every flag has an environment
// variable twin, NETSTEP_ and the flag's name in capitals: a flag given on
// the command line wins over its variable.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
	envs   map[string]string
}

func newFlags(name, summary string, getenv func(string) string, stderr io.Writer) *flags {
	f := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), getenv: getenv, envs: map[string]string{}}
	f.SetOutput(stderr)
	f.Usage = func() {
		fmt.Fprintf(stderr, "Usage: netstep %s [flags]\n\n%s\n\nFlags (each also read from its environment variable):\n", name, summary)
		f.VisitAll(func(fl *flag.Flag) {
			fmt.Fprintf(stderr, "  --%s (%s)\n    \t%s", fl.Name, f.envs[fl.Name], fl.Usage)
			if fl.DefValue != "" {
				fmt.Fprintf(stderr, " (default %s)", fl.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	return f
}

// envName is the environment variable twin of a flag.
func envName(flagName string) string {
	return "NETSTEP_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse reads the arguments, then the environment for the flags the
// arguments did not give: a flag always wins over its variable, a list flag
// too (its values replace the variable's rather than adding to them).
func (f *flags) parse(args []string) error {
	f.VisitAll(func(fl *flag.Flag) {
		if f.envs[fl.Name] == "" {
			f.envs[fl.Name] = envName(fl.Name)
		}
	})
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if f.NArg() > 0 && f.Name() != "validate" {
		return usageError{fmt.Sprintf("unexpected argument %q", f.Arg(0))}
	}
	given := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	var bad error
	f.VisitAll(func(fl *flag.Flag) {
		if given[fl.Name] || bad != nil {
			return
		}
		if v := f.getenv(f.envs[fl.Name]); v != "" {
			if err := fl.Value.Set(v); err != nil {
				bad = usageError{fmt.Sprintf("%s=%q: %v", f.envs[fl.Name], v, err)}
			}
		}
	})
	return bad
}

// intFlag is an integer flag with bounds, so a bad value is refused with a
// message saying what was expected.
type intFlag struct {
	v, lo, hi int
}

func (i *intFlag) String() string { return strconv.Itoa(i.v) }

func (i *intFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < i.lo || n > i.hi {
		return fmt.Errorf("want a whole number from %d to %d", i.lo, i.hi)
	}
	i.v = n
	return nil
}

// loadTrainer is a fresh trainer of the lesson loadLesson finds.
func loadTrainer(ref string) (*engine.Trainer, error) {
	l, err := loadLesson(ref)
	if err != nil {
		return nil, err
	}
	return engine.NewTrainer(l)
}

// loadLesson finds a lesson by built-in name or reads it from a file.
func loadLesson(ref string) (*engine.Lesson, error) {
	if ref == "" {
		return nil, usageError{"--lesson is required: a built-in lesson's name (see netstep lessons) or a lesson file"}
	}
	if l, ok := engine.Builtin().Lookup(ref); ok {
		return l, nil
	}
	if _, err := os.Stat(ref); err != nil {
		return nil, fmt.Errorf("--lesson %q: not a built-in lesson (see netstep lessons) and not a readable file", ref)
	}
	l, err := loadLessonFile(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return l, nil
}

func cmdTrace(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("trace", "Print every event of some steps of a lesson as JSON lines, the same objects the websocket sends.", getenv, stderr)
	lesson := f.String("lesson", "", "a built-in lesson's name or a lesson file")
	gran := f.String("granularity", "sample", "how far one step goes: micro, phase, sample, batch or epoch")
	steps := &intFlag{v: 1, lo: 1, hi: 1_000_000}
	f.Var(steps, "steps", "how many steps to take")
	if err := f.parse(args); err != nil {
		return err
	}
	g, err := engine.ParseGranularity(*gran)
	if err != nil {
		return usageError{"--granularity: " + err.Error()}
	}
	tr, err := loadTrainer(*lesson)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	var line []byte
	emit := func(e *engine.Event) {
		line = append(e.AppendJSON(line[:0]), '\n')
		w.Write(line)
	}
	for i := 0; i < steps.v && ctx.Err() == nil; i++ {
		if err := tr.Step(g, emit); err != nil {
			break // diverged: the diverged event has been printed
		}
	}
	return w.Flush()
}

func cmdTrain(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("train", "Train a lesson at full speed (no per-neuron events) and print, last, a one-line JSON summary.", getenv, stderr)
	lesson := f.String("lesson", "", "a built-in lesson's name or a lesson file")
	epochs := &intFlag{v: 100, lo: 1, hi: 10_000_000}
	f.Var(epochs, "epochs", "how many epochs to train")
	every := &intFlag{v: 0, lo: 0, hi: 10_000_000}
	f.Var(every, "log-every", "also print every Nth epoch event (0: none)")
	if err := f.parse(args); err != nil {
		return err
	}
	tr, err := loadTrainer(*lesson)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	var line []byte
	var onEpoch func(*engine.Event)
	if every.v > 0 {
		onEpoch = func(e *engine.Event) {
			if e.Type != engine.EventEpoch || e.Epoch%every.v == 0 {
				line = append(e.AppendJSON(line[:0]), '\n')
				w.Write(line)
			}
		}
	}
	start := time.Now()
	done := 0
	for done < epochs.v && ctx.Err() == nil && tr.Diverged() == "" {
		n := min(epochs.v-done, 100)
		if err := tr.Run(engine.StepEpoch, n, onEpoch); err != nil {
			break
		}
		done += n
	}
	secs := time.Since(start).Seconds()
	epochsDone := tr.Position().Epoch
	summary := struct {
		Epochs           int      `json:"epochs"`
		Samples          int64    `json:"samples"`
		Seconds          float64  `json:"seconds"`
		SamplesPerSecond float64  `json:"samplesPerSecond"`
		TrainLoss        *float64 `json:"trainLoss"`
		TestLoss         *float64 `json:"testLoss"`
		Diverged         string   `json:"diverged,omitempty"`
	}{Epochs: epochsDone, Samples: int64(epochsDone) * int64(tr.Lesson().TrainSize()), Seconds: secs, Diverged: tr.Diverged()}
	if secs > 0 {
		summary.SamplesPerSecond = float64(summary.Samples) / secs
	}
	if ls := tr.Losses(); len(ls) > 0 {
		last := ls[len(ls)-1]
		summary.TrainLoss = &last.TrainLoss
		if last.HasTest {
			summary.TestLoss = &last.TestLoss
		}
	}
	out, _ := json.Marshal(summary)
	w.Write(append(out, '\n'))
	return w.Flush()
}

func cmdLessons(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("lessons", "List the built-in lessons, one a line: name, a tab, title.", getenv, stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	cat := engine.Builtin()
	for _, n := range cat.Names() {
		l, _ := cat.Lookup(n)
		fmt.Fprintf(stdout, "%s\t%s\n", n, l.Title)
	}
	return nil
}

func cmdValidate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	f := newFlags("validate", "Check lesson files, or folders as serve --lessons reads them. Prints each problem with its field path; exit status 1 if any.", getenv, stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	if f.NArg() == 0 {
		return usageError{"validate needs at least one lesson file or folder"}
	}
	bad, files := 0, 0
	check := func(file string, l *engine.Lesson, err error) {
		files++
		if err != nil {
			bad++
			var le *engine.LessonError
			if errors.As(err, &le) {
				for _, p := range le.Problems {
					fmt.Fprintf(stdout, "%s: %s\n", file, p.Error())
				}
			} else {
				fmt.Fprintf(stdout, "%s: %v\n", file, err)
			}
			return
		}
		fmt.Fprintf(stdout, "%s: ok (%q, %d training and %d test samples)\n", file, l.Title, l.TrainSize(), l.TestSize())
	}
	for _, file := range f.Args() {
		// A folder is checked as serve --lessons reads it: each *.json that
		// is a regular file inside it.
		if st, err := os.Stat(file); err == nil && st.IsDir() {
			folder, err := openLessonFolder(file)
			if err != nil {
				return err
			}
			names, _ := fs.Glob(folder, "*.json")
			for _, name := range names {
				data, err := fs.ReadFile(folder, name)
				var l *engine.Lesson
				if err == nil {
					l, err = engine.ParseLesson(data)
				}
				check(filepath.Join(file, name), l, err)
			}
			folder.Close()
			continue
		}
		l, err := loadLessonFile(file)
		check(file, l, err)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d lesson files have problems", bad, files)
	}
	return nil
}

// loadLessonFile reads and parses one lesson file; its errors do not name
// the file, which the callers print first.
func loadLessonFile(file string) (*engine.Lesson, error) {
	data, err := readLessonFile(file)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	return engine.ParseLesson(data)
}

// unwrapPathError drops an fs.PathError's naming of the file, which the
// messages here print first.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
