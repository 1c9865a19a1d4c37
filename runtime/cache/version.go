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

// versionOf derives a program's version from its build information: the main module's path,
// version and VCS revision and the Go version for a release build, or exeHash() for a
// development build (version "(devel)" or unknown), a modified one (vcs.modified=true or a
// "+dirty" version) or when there is no build information.
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
	if v == "" || v == "(devel)" || v == "devel" || strings.Contains(v, "+dirty") || modified {
		return "devel:" + bi.Main.Path + ":" + exeHash()
	}
	return bi.Main.Path + "@" + v + " " + rev + " " + bi.GoVersion
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

func hashExecutable(w io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
