package cache

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// buildVersion is the version of the running program, computed once per process (see
// versionOf). It is the only process-wide state of the package.
var buildVersion = sync.OnceValue(func() string {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi, executableHash)
})

// versionOf derives a program's version from its build information. A release build (a
// tagged, unmodified main module whose dependencies are all module versions) is identified by
// its module path, version and VCS revision, and a digest of the whole build information: the
// Go version, every build setting (-ldflags, -tags, GOAMD64, CGO_ENABLED, ...) and every
// dependency's path, version, sum and replacement, so that two builds of one commit that
// differ in any of those never share entries. Otherwise it is a development build, identified
// by exeHash(): version "(devel)" or unknown, a modified one (vcs.modified=true or a "+dirty"
// version), a dependency replaced by a local directory or read from a vendor directory
// (whose content the build information does not record), a -trimpath build (whose -ldflags
// it does not record), or no build information at all. (A build with -overlay or -toolexec,
// or with a toolchain changed in place, records nothing of it: set Options.Version.)
func versionOf(bi *debug.BuildInfo, exeHash func() string) string {
	if bi == nil {
		return "exe:" + exeHash()
	}
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" || v == "devel" || strings.Contains(v, "+dirty") || modified || unrecordedDep(bi) || trimpath(bi) {
		return "devel:" + bi.Main.Path + ":" + exeHash()
	}
	sum := sha256.Sum256([]byte(bi.String()))
	return bi.Main.Path + "@" + v + " " + rev + " " + bi.GoVersion + " build:" + hex.EncodeToString(sum[:8])
}

// trimpath reports whether the build used -trimpath, for which the go command leaves -ldflags
// out of the build information (go.dev/issue/52372): two such builds that differ in -X flags
// would look alike.
func trimpath(bi *debug.BuildInfo) bool {
	for _, s := range bi.Settings {
		if s.Key == "-trimpath" && s.Value == "true" {
			return true
		}
	}
	return false
}

// unrecordedDep reports whether a dependency's content can change with no trace in the
// build information: it is replaced by a directory, or it has no checksum (a build from a
// vendor directory, which the go command reads without checking it against go.sum, and
// which is often not under version control).
func unrecordedDep(bi *debug.BuildInfo) bool {
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
			if d.Version == "" {
				return true
			}
		}
		if d.Sum == "" {
			return true
		}
	}
	return false
}

// executableHash returns the SHA-256 of the running executable in hexadecimal. When the
// executable cannot be read it returns a random string, which makes this process's entries
// private to it: safe, if useless to other processes.
func executableHash() string {
	h := sha256.New()
	if err := hashExecutable(h); err != nil {
		var b [16]byte
		rand.Read(b[:])
		return "unreadable-" + hex.EncodeToString(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashExecutable writes the running executable to w. Where the system names it
// (/proc/self/exe on Linux), that is the file the process runs even if its path has since
// been replaced by a rebuild; elsewhere it is the file at os.Executable when the first Cache
// is opened.
func hashExecutable(w io.Writer) error {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		exe, eerr := os.Executable()
		if eerr != nil {
			return eerr
		}
		if f, err = os.Open(exe); err != nil {
			return err
		}
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
