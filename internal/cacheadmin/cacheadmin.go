// Package cacheadmin implements the cachegen cache command, which inspects and maintains
// the directories of runtime/cache:
//
//	cachegen cache stats [-dir DIR] [-namespace NS]
//	cachegen cache trim  [-dir DIR] [-namespace NS] [-max-bytes N] [-max-age D]
//	cachegen cache clear [-dir DIR] [-namespace NS]
//
// stats prints the entries and bytes of every namespace and version; trim trims entries
// now, by age and size, as the caches do in the background (other versions' directories it
// leaves to the caches, which remove them once unused for a while); clear removes
// everything the cache wrote (and only that: files it does not recognise are kept). DIR
// defaults to the directory that cache.Open uses when its Dir option is empty; without
// -namespace, every namespace is concerned.
package cacheadmin

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
)

const usage = `usage: cachegen cache <command> [flags]

Commands:
  stats   print the entries and bytes of each namespace and version
  trim    trim now: remove stale temporary files, entries older than -max-age, then the
          least recently used entries until each namespace fits in 90% of -max-bytes
  clear   remove everything the cache wrote (unrecognised files are kept)

Flags:
`

// A command is the parsed command line.
type command struct {
	fs       *flag.FlagSet
	dir, ns  string
	maxBytes int64
	maxAge   time.Duration
}

func newCommand(name string, out io.Writer) *command {
	c := &command{fs: flag.NewFlagSet("cachegen cache "+name, flag.ContinueOnError)}
	c.fs.SetOutput(out)
	c.fs.Usage = func() {
		fmt.Fprint(out, usage)
		c.fs.PrintDefaults()
	}
	c.fs.StringVar(&c.dir, "dir", "", "cache directory (default: cachegen in the user cache directory)")
	c.fs.StringVar(&c.ns, "namespace", "", "namespace (default: all namespaces)")
	c.fs.Int64Var(&c.maxBytes, "max-bytes", cache.DefaultMaxBytes, "trim only: disk budget of each namespace, in bytes")
	c.fs.DurationVar(&c.maxAge, "max-age", cache.DefaultMaxAge, "trim only: remove entries unused for this long")
	return c
}

// Run runs the cache command with args, the arguments after "cache", and returns the exit
// status: 0 on success, 1 when the command failed, 2 for a usage error.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		newCommand("", stderr).fs.Usage()
		return 2
	}
	name := args[0]
	switch name {
	case "stats", "trim", "clear":
	case "help", "-h", "-help", "--help":
		newCommand("", stdout).fs.Usage()
		return 0
	default:
		fmt.Fprintf(stderr, "cachegen cache: unknown command %q\n", name)
		newCommand("", stderr).fs.Usage()
		return 2
	}
	c := newCommand(name, stderr)
	if err := c.fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if c.fs.NArg() != 0 {
		fmt.Fprintf(stderr, "cachegen cache %s: unexpected arguments %q\n", name, c.fs.Args())
		return 2
	}
	var misplaced error
	c.fs.Visit(func(f *flag.Flag) {
		if name != "trim" && (f.Name == "max-bytes" || f.Name == "max-age") {
			misplaced = fmt.Errorf("-%s applies to trim only", f.Name)
		}
	})
	if misplaced != nil {
		fmt.Fprintf(stderr, "cachegen cache %s: %v\n", name, misplaced)
		return 2
	}
	if c.dir == "" {
		c.dir = cache.DefaultDir()
	}
	var err error
	switch name {
	case "stats":
		err = stats(stdout, c.dir, c.ns)
	case "trim":
		var res cache.TrimResult
		res, err = cache.TrimDir(c.dir, c.ns, c.maxBytes, c.maxAge)
		fmt.Fprintf(stdout, "trim: removed %d files (%s) from %s\n", res.Files, formatBytes(res.Bytes), c.dir)
	case "clear":
		var res cache.TrimResult
		res, err = cache.Clear(c.dir, c.ns)
		fmt.Fprintf(stdout, "clear: removed %d files (%s) from %s\n", res.Files, formatBytes(res.Bytes), c.dir)
	}
	if err != nil {
		fmt.Fprintf(stderr, "cachegen cache %s: %v\n", name, err)
		return 1
	}
	return 0
}

// stats prints a table of the usage of dir, one line per namespace and version, and a total.
func stats(w io.Writer, dir, ns string) error {
	us, err := cache.Usage(dir, ns)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "cache directory %s\n", dir)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tVERSION\tENTRIES\tBYTES\tTEMP FILES\tLAST USED\tVERSION STRING")
	var entries, temps int
	var bytes int64
	for _, u := range us {
		last := "-"
		if !u.Newest.IsZero() {
			last = u.Newest.Format(time.DateTime)
		}
		version := u.Version
		if version == "" {
			version = "?"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%s\t%s\n", u.Namespace, u.VersionID, u.Entries,
			formatBytes(u.Bytes), u.TempFiles, last, version)
		entries += u.Entries
		temps += u.TempFiles
		bytes += u.Bytes
	}
	fmt.Fprintf(tw, "total\t\t%d\t%s\t%d\t\t\n", entries, formatBytes(bytes), temps)
	return tw.Flush()
}

// formatBytes formats n bytes with a binary unit.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
