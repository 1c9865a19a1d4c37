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

// buildVersion is the version of the running program, computed once per process: the main
// module's path, version and VCS revision for a release build, or a hash of the executable
// for a development or modified build. It is the only process-wide state of the package.
var buildVersion = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "exe:" + executableHash()
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
		return "devel:" + bi.Main.Path + ":" + executableHash()
	}
	return bi.Main.Path + "@" + v + " " + rev + " " + bi.GoVersion
})

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
