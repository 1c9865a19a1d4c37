// Package cacheadmin implements the cachegen cache command, which inspects and maintains
// the directories of runtime/cache:
//
//	go tool cachegen cache stats [-dir DIR] [-namespace NS] [-json]
//	go tool cachegen cache trim  [-dir DIR] [-namespace NS] [-max-bytes SIZE] [-max-age AGE]
//	go tool cachegen cache clear [-dir DIR] [-namespace NS]
//
// stats prints the entries and bytes of every namespace and version; trim trims entries
// now, by age and size, as the caches do in the background (other versions' directories it
// leaves to the caches, which remove them once unused for a while); clear removes
// everything the cache wrote (and only that: files it does not recognise are kept). DIR
// defaults to the directory that cache.Open uses when its Dir option is empty
// (cache.DefaultDir); without -namespace, every namespace is concerned.
package cacheadmin

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
)

// prog is the command line that runs this command, as help text shows it.
const prog = "go tool cachegen cache"

const usage = `usage: ` + prog + ` <command> [flags]

The cache command inspects and maintains the directories of the runtime/cache
package. It works only in namespaces tagged as a cache (the CACHEDIR.TAG that a
Cache writes), and touches only the files the cache wrote.

Commands:
  stats   print the entries, bytes and last use of each namespace and version
  trim    remove stale temporary files, entries unused for longer than -max-age,
          then the least recently used entries until each namespace fits in 90%
          of -max-bytes
  clear   remove everything the cache wrote (files it does not recognise are kept)

Run '` + prog + ` <command> -h' for the flags of a command.
` + dirHelp

// dirHelp describes the default of -dir.
const dirHelp = `
-dir is optional: by default a command works in the directory that cache.Open
uses when Options.Dir is empty (cache.DefaultDir): the cachegen directory in
the user cache directory (~/.cache/cachegen on Linux, ~/Library/Caches/cachegen
on macOS, %LocalAppData%\cachegen on Windows), or, when that is unusable, a
cachegen-<user> directory in the temporary directory. Without -namespace, a
command concerns every namespace.
`

// A subcommand is one of stats, trim and clear, with its own flags.
type subcommand struct {
	name, args, doc string
	// flags defines the command's own flags beyond -dir and -namespace in fs.
	flags func(c *command)
}

var subcommands = []subcommand{
	{
		name: "stats",
		args: "[-dir DIR] [-namespace NS] [-json]",
		doc: `Stats prints, for each namespace and version of the cache directory, the
number of entries, their bytes, the temporary files and the time an entry was
last used, with a total. With -json it prints one JSON object instead:

	{
		"Dir": "...",
		"Entries": 10, "Bytes": 102400, "TempFiles": 0, "TempBytes": 0,
		"Namespaces": [{
			"Namespace": "compiler",
			"Entries": 10, "Bytes": 102400, "TempFiles": 0, "TempBytes": 0,
			"LastUsed": "2006-01-02T15:04:05.999999999-07:00",
			"LeastRecentlyUsed": "2006-01-02T15:04:05.999999999-07:00",
			"Versions": [{
				"VersionID": "0123456789abcdef",
				"Version": "v1.2.3 ...",
				"Entries": 10, "Bytes": 102400, "TempFiles": 0, "TempBytes": 0,
				"LastUsed": "...", "LeastRecentlyUsed": "..."
			}]
		}]
	}

Times are RFC 3339 with the local zone; LastUsed is the most recent use of an
entry and LeastRecentlyUsed the last use of the least recently used entry, both
left out when there is no entry. Bytes counts entry files, TempBytes temporary
files (stores in progress or left by crashed writers).
`,
		flags: func(c *command) {
			c.fs.BoolVar(&c.json, "json", false, "print one JSON object instead of a table")
		},
	},
	{
		name: "trim",
		args: "[-dir DIR] [-namespace NS] [-max-bytes SIZE] [-max-age AGE]",
		doc: `Trim trims the cache now, as the caches do in the background: it removes stale
temporary files, the entries unused for longer than -max-age, then the least
recently used entries until each namespace fits in 90% of -max-bytes. The
entries of all versions are trimmed together; the directories of versions no
longer in use are left to the caches, which remove them after a while.
`,
		flags: func(c *command) {
			c.maxBytes = cache.DefaultMaxBytes
			c.maxAge = age(cache.DefaultMaxAge)
			c.fs.Var(&c.maxBytes, "max-bytes", "trim each namespace to 90% of `SIZE`: a number of bytes, or a number (1.5 allowed)\n"+
				"with a binary unit K, M, G or T, optionally followed by B or iB, in any case:\n"+
				"K = KB = KiB = 1024 bytes, M = MB = MiB = 1024 K, G = 1024 M, T = 1024 G")
			c.fs.Var(&c.maxAge, "max-age", "remove entries unused for longer than `AGE`: a Go duration (90m, 36h)\n"+
				"or a number of days, with an optional duration after it (30d, 1d12h)")
		},
	},
	{
		name: "explain",
		args: "[-dir DIR] [-namespace NS] [-n N]",
		doc: `Explain prints the misses explained lately, oldest first: when, the key's type and
digest, and why it missed (the fields that changed from the closest key stored
before, or why the same key's entry was gone). Programs record them while they
explain their misses: with CACHEGEN_EXPLAIN=1 in their environment, or through
cache.Options.OnMiss.
`,
		flags: func(c *command) {
			c.fs.IntVar(&c.n, "n", 20, "print the last `N` misses (0: all that are kept)")
		},
	},
	{
		name: "clear",
		args: "[-dir DIR] [-namespace NS]",
		doc: `Clear removes everything the cache wrote: entries, temporary files, version and
trim records, and the directories they leave empty. Files and directories it
does not recognise are kept.
`,
	},
}

func lookup(name string) *subcommand {
	for i := range subcommands {
		if subcommands[i].name == name {
			return &subcommands[i]
		}
	}
	return nil
}

// A command is the parsed command line of a subcommand.
type command struct {
	sub      *subcommand
	fs       *flag.FlagSet
	dir, ns  string
	json     bool
	n        int
	maxBytes byteSize
	maxAge   age
}

func newCommand(sub *subcommand) *command {
	c := &command{sub: sub, fs: flag.NewFlagSet(prog+" "+sub.name, flag.ContinueOnError)}
	// Parse reports nothing itself: Run prints a one-line error, or the usage for -h.
	c.fs.SetOutput(io.Discard)
	c.fs.Usage = func() {}
	c.fs.StringVar(&c.dir, "dir", "", "the cache directory `DIR` (default: cache.DefaultDir(), as described above)")
	c.fs.StringVar(&c.ns, "namespace", "", "work on the namespace `NS` only (default: every namespace)")
	if sub.flags != nil {
		sub.flags(c)
	}
	return c
}

// usage prints the usage of the subcommand to w.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s %s %s\n\n%s%s\nFlags:\n", prog, c.sub.name, c.sub.args, c.sub.doc, dirHelp)
	c.fs.SetOutput(w)
	c.fs.PrintDefaults()
	c.fs.SetOutput(io.Discard)
}

// usageError prints a usage error as go commands do: the error on one line, then where to
// find the usage. It returns the exit status of a usage error, 2.
func usageError(stderr io.Writer, cmd, helpCmd string, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n", cmd, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "Run '%s -h' for usage.\n", helpCmd)
	return 2
}

// Run runs the cache command with args, the arguments after "cache", and returns the exit
// status: 0 on success, 1 when the command failed, 2 for a usage error. Help (-h, -help,
// help [command]) goes to stdout with status 0.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "help":
		switch {
		case len(args) == 1:
			fmt.Fprint(stdout, usage)
			return 0
		case len(args) == 2 && lookup(args[1]) != nil:
			newCommand(lookup(args[1])).usage(stdout)
			return 0
		case len(args) == 2:
			return usageError(stderr, "cachegen cache help", prog, "unknown command %q", args[1])
		default:
			return usageError(stderr, "cachegen cache help", prog, "too many arguments %q", args[1:])
		}
	}
	sub := lookup(name)
	if sub == nil {
		if strings.HasPrefix(name, "-") {
			return usageError(stderr, "cachegen cache", prog, "flag %s before a command (stats, trim or clear)", name)
		}
		return usageError(stderr, "cachegen cache", prog, "unknown command %q", name)
	}
	c := newCommand(sub)
	cmd := "cachegen cache " + name
	if err := c.fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout)
			return 0
		}
		msg := err.Error()
		if flagName, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			flagName = strings.TrimPrefix(flagName, "-")
			for _, other := range subcommands {
				if other.name != name && newCommand(&other).fs.Lookup(flagName) != nil {
					msg += fmt.Sprintf(" (-%s applies to %s only)", flagName, other.name)
					break
				}
			}
		}
		return usageError(stderr, cmd, prog+" "+name, "%s", msg)
	}
	if c.fs.NArg() != 0 {
		return usageError(stderr, cmd, prog+" "+name, "unexpected arguments %q", c.fs.Args())
	}
	if c.dir == "" {
		c.dir = cache.DefaultDir()
		if c.dir == "" {
			fmt.Fprintf(stderr, "%s: no usable default cache directory (the caches run in memory); name one with -dir\n", cmd)
			return 1
		}
	}
	var err error
	switch name {
	case "stats":
		if c.json {
			err = statsJSON(stdout, c.dir, c.ns)
		} else {
			err = stats(stdout, c.dir, c.ns)
		}
	case "trim":
		var res cache.TrimResult
		res, err = cache.TrimDir(c.dir, c.ns, int64(c.maxBytes), time.Duration(c.maxAge))
		fmt.Fprintf(stdout, "trim: removed %d files (%s) from %s\n", res.Files, formatBytes(res.Bytes), c.dir)
	case "explain":
		var misses []cache.Miss
		if misses, err = cache.RecentMisses(c.dir, c.ns, c.n); err == nil {
			if len(misses) == 0 {
				fmt.Fprintf(stdout, "no explained miss in %s (set CACHEGEN_EXPLAIN=1 in the programs' environment)\n", c.dir)
			}
			for _, m := range misses {
				fmt.Fprintf(stdout, "%s  %s %s…  %s\n", m.Time.Local().Format(timeLayout), m.KeyType, m.Digest.String()[:12], m.Reason)
			}
		}
	case "clear":
		var res cache.TrimResult
		res, err = cache.Clear(c.dir, c.ns)
		fmt.Fprintf(stdout, "clear: removed %d files (%s) from %s\n", res.Files, formatBytes(res.Bytes), c.dir)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// timeLayout is how the human output of stats prints times: with their zone.
const timeLayout = "2006-01-02 15:04:05 MST"

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
			last = u.Newest.Format(timeLayout)
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

// The JSON output of stats. Field names follow the go command's -json output: Go's own.
type (
	jsonCounts struct {
		Entries   int
		Bytes     int64
		TempFiles int
		TempBytes int64
	}
	jsonUse struct {
		LastUsed          time.Time `json:",omitzero"`
		LeastRecentlyUsed time.Time `json:",omitzero"`
	}
	jsonStats struct {
		Dir string
		jsonCounts
		Namespaces []*jsonNamespace
	}
	jsonNamespace struct {
		Namespace string
		jsonCounts
		jsonUse
		Versions []jsonVersion
	}
	jsonVersion struct {
		VersionID string
		Version   string
		jsonCounts
		jsonUse
	}
)

func (c *jsonCounts) add(o jsonCounts) {
	c.Entries += o.Entries
	c.Bytes += o.Bytes
	c.TempFiles += o.TempFiles
	c.TempBytes += o.TempBytes
}

func (u *jsonUse) add(o jsonUse) {
	if o.LastUsed.After(u.LastUsed) {
		u.LastUsed = o.LastUsed
	}
	if !o.LeastRecentlyUsed.IsZero() && (u.LeastRecentlyUsed.IsZero() || o.LeastRecentlyUsed.Before(u.LeastRecentlyUsed)) {
		u.LeastRecentlyUsed = o.LeastRecentlyUsed
	}
}

// statsJSON prints the usage of dir as one JSON object.
func statsJSON(w io.Writer, dir, ns string) error {
	us, err := cache.Usage(dir, ns)
	if err != nil {
		return err
	}
	out := jsonStats{Dir: dir, Namespaces: []*jsonNamespace{}}
	for _, u := range us {
		v := jsonVersion{
			VersionID:  u.VersionID,
			Version:    u.Version,
			jsonCounts: jsonCounts{u.Entries, u.Bytes, u.TempFiles, u.TempBytes},
			jsonUse:    jsonUse{LastUsed: u.Newest, LeastRecentlyUsed: u.Oldest},
		}
		if n := len(out.Namespaces); n == 0 || out.Namespaces[n-1].Namespace != u.Namespace {
			out.Namespaces = append(out.Namespaces, &jsonNamespace{Namespace: u.Namespace})
		}
		n := out.Namespaces[len(out.Namespaces)-1]
		n.Versions = append(n.Versions, v)
		n.jsonCounts.add(v.jsonCounts)
		n.jsonUse.add(v.jsonUse)
		out.jsonCounts.add(v.jsonCounts)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "\t")
	return enc.Encode(out)
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
